import { LineCounter, Parser } from 'yaml';

export type ScalarStyle = 'plain' | 'single-quoted' | 'double-quoted' | 'block';

/** Source offsets of one scalar: `[start, end)`, quotes included, a block scalar's header excluded. */
export interface ScalarRegion {
  start: number;
  end: number;
  style: ScalarStyle;
  /** Inside `[...]` or `{...}`, where `,[]{}` end a plain scalar. */
  inFlow: boolean;
}

export interface Span {
  start: number;
  end: number;
}

export interface YamlRegions {
  scalars: ScalarRegion[];
  comments: Span[];
  /** 1-based line of a source offset. */
  lineAt: (offset: number) => number;
}

const FLOW_STYLES: Record<string, ScalarStyle> = {
  scalar: 'plain',
  'single-quoted-scalar': 'single-quoted',
  'double-quoted-scalar': 'double-quoted',
};

/**
 * Where the scalars and comments of a YAML text are, read with the `yaml` package's own tokenizer: guessing
 * comments from `#` characters would get quoted `#`s and `#`s without a space before them wrong.
 */
export function scanYamlRegions(text: string): YamlRegions {
  const lineCounter = new LineCounter();
  const scalars: ScalarRegion[] = [];
  const comments: Span[] = [];

  const visit = (node: unknown, inFlow: boolean): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child, inFlow);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const token = node as { type?: string; offset?: number; source?: string; props?: unknown[] };
    const { type, offset, source } = token;
    if (type === 'comment' && offset !== undefined && source !== undefined) {
      comments.push({ start: offset, end: offset + source.length });
      return;
    }
    const flowStyle = type === undefined ? undefined : FLOW_STYLES[type];
    if (flowStyle !== undefined && offset !== undefined && source !== undefined) {
      scalars.push({ start: offset, end: offset + source.length, style: flowStyle, inFlow });
    }
    if (type === 'block-scalar' && source !== undefined) {
      const start = endOfLastToken(token.props) ?? text.indexOf(source, offset);
      scalars.push({ start, end: start + source.length, style: 'block', inFlow: false });
    }
    const childInFlow = inFlow || type === 'flow-collection';
    for (const [key, child] of Object.entries(node)) {
      if (key !== 'source') visit(child, childInFlow);
    }
  };

  for (const token of new Parser(lineCounter.addNewLine).parse(text)) visit(token, false);
  return { scalars, comments, lineAt: (offset) => lineCounter.linePos(offset).line };
}

function endOfLastToken(tokens: unknown[] | undefined): number | undefined {
  const last = tokens?.at(-1) as { offset?: number; source?: string } | undefined;
  if (last?.offset === undefined || last.source === undefined) return undefined;
  return last.offset + last.source.length;
}
