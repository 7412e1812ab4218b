export { renderDrillMarkdown } from './render.ts';
export { type DrillOptions, type DrillReport, runDrill } from './run-drill.ts';
