import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** This tool's version, recorded in every manifest. */
export const TOOL_VERSION: string = (require('../package.json') as { version: string }).version;
