import { type Document, LineCounter, parseDocument, type YAMLError } from 'yaml';
import { ConfigError } from '../errors.ts';

export interface YamlDocument {
  doc: Document;
  lineCounter: LineCounter;
  /** The document as plain JavaScript: a mapping, checked. */
  data: Record<string, unknown>;
}

/** Parses one YAML document holding a mapping; any YAML problem is a ConfigError naming file and line. */
export function readYamlDocument(text: string, source: string): YamlDocument {
  const lineCounter = new LineCounter();
  // prettyErrors would append the offending source line to messages: it may hold a password.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  // The config has no use for tags; an unknown one is a value like `!Passw0rd` that needed quotes.
  const problems = [
    ...doc.errors,
    ...doc.warnings.filter((warning) => warning.code === 'TAG_RESOLVE_FAILED'),
  ];
  if (problems.length > 0) {
    const lines = problems
      .sort((a, b) => a.pos[0] - b.pos[0])
      .map((problem) => `${source} line ${lineCounter.linePos(problem.pos[0]).line}: ${describe(problem)}`);
    throw new ConfigError([...new Set(lines)].join('\n'), {
      hint: 'The file is not valid YAML at the lines named above (indentation, a missing colon, an unclosed quote).',
    });
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (error) {
    throw new ConfigError(`${source}: invalid YAML: ${(error as Error).message}`, {
      hint: 'Fix the YAML at the place named above.',
    });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(
      `${source}: expected a mapping of settings starting with mode: backup or mode: restore`,
      {
        hint: 'A config is a YAML mapping: mode, backup_id, source or target, storage, ... (see the README).',
      },
    );
  }
  return { doc, lineCounter, data: data as Record<string, unknown> };
}

function describe(problem: YAMLError): string {
  if (problem.code === 'TAG_RESOLVE_FAILED')
    return 'invalid YAML: unknown tag; quote a value that starts with !';
  // Some messages quote source text after ": " (a tag, a block scalar header): it may be part of a password.
  return `invalid YAML: ${problem.message.split(': ')[0]}`;
}
