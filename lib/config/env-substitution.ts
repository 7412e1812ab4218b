import { ConfigError } from '../errors.ts';
import { doubleQuoted, escapeForDoubleQuotes, readsAsPlainScalar } from './yaml-quoting.ts';
import { type ScalarRegion, scanYamlRegions } from './yaml-regions.ts';

export interface EnvSubstitutionOptions {
  /** File name used in messages. */
  source: string;
  env: Readonly<Record<string, string | undefined>>;
  /** When the run started: `${TIMESTAMP}` defaults to it. */
  now: Date;
}

/** `$$`, `${NAME}` or `${NAME:-default}` in the raw text; `malformed` is a `${` that is neither. */
interface Reference {
  start: number;
  end: number;
  kind: 'escape' | 'variable' | 'malformed';
  name: string;
  fallback: string | undefined;
}

const REFERENCE = /\$\$|\$\{([^}\r\n]*)(\})?/g;
const VARIABLE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** `yyyyMMdd-HHmmss` in UTC: sorts like time and is legal in a backup id. */
export function formatRunTimestamp(now: Date): string {
  const iso = now.toISOString(); // 2024-12-01T12:00:00.000Z
  return iso.slice(0, 10).replaceAll('-', '') + '-' + iso.slice(11, 19).replaceAll(':', '');
}

/**
 * Replaces `${NAME}`, `${NAME:-default}` and `$$` in a YAML text before it is parsed. References inside comments
 * are left alone. A substituted value never changes the YAML structure: in an unquoted value it stays unquoted
 * (so `${PORT}` can still be a number) unless it would read differently there (`#`, `: `, a leading `*`, `!`,
 * ...), in which case the whole scalar becomes a double-quoted string; inside quotes it is escaped. Lines never
 * move, so line numbers in later messages match the file.
 */
export function substituteEnv(text: string, options: EnvSubstitutionOptions): string {
  const references = findReferences(text);
  if (references.length === 0) return text;

  // Each reference is masked with letters of the same length so the tokenizer sees it as one word, even
  // where `{` or `}` would mean something (inside `[...]`), and offsets stay those of `text`.
  let masked = text;
  for (const { start, end } of references) {
    masked = masked.slice(0, start) + 'x'.repeat(end - start) + masked.slice(end);
  }
  const regions = scanYamlRegions(masked);

  const problems: string[] = [];
  const at = (reference: Reference) => `${options.source} line ${regions.lineAt(reference.start)}`;
  const inComment = (reference: Reference) =>
    regions.comments.some((comment) => comment.start <= reference.start && reference.end <= comment.end);

  const byScalar = new Map<ScalarRegion, Array<{ reference: Reference; value: string }>>();
  const edits: Array<{ start: number; end: number; replacement: string }> = [];
  for (const reference of references) {
    if (inComment(reference)) continue;
    if (reference.kind === 'malformed') {
      problems.push(
        `${at(reference)}: "\${" starts no valid \${NAME} reference; write "$\${" for a literal "\${"`,
      );
      continue;
    }
    const value = resolve(reference, options);
    if (value === undefined) {
      const name = reference.name;
      problems.push(
        `${at(reference)}: \${${name}} is not set; export it or give a default as \${${name}:-value}`,
      );
      continue;
    }
    const scalar = regions.scalars.find((s) => s.start <= reference.start && reference.end <= s.end);
    if (scalar) {
      byScalar.set(scalar, [...(byScalar.get(scalar) ?? []), { reference, value }]);
    } else if (reference.kind === 'escape') {
      edits.push({ start: reference.start, end: reference.end, replacement: '$' });
    } else {
      problems.push(`${at(reference)}: \${${reference.name}} can only be used inside a value`);
    }
  }

  for (const [scalar, substitutions] of byScalar) {
    const rendered = renderScalar(text, scalar, substitutions);
    if (typeof rendered === 'string') {
      edits.push({ start: scalar.start, end: scalar.end, replacement: rendered });
    } else {
      problems.push(`${at(rendered.reference)}: ${rendered.problem}`);
    }
  }
  if (problems.length > 0)
    throw new ConfigError(problems.join('\n'), {
      hint: `Every \${NAME} in a config is replaced from the environment before it is read: set the variables named above, or give defaults as \${NAME:-value}.`,
    });

  let result = text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    result = result.slice(0, edit.start) + edit.replacement + result.slice(edit.end);
  }
  return result;
}

function findReferences(text: string): Reference[] {
  const references: Reference[] = [];
  for (const match of text.matchAll(REFERENCE)) {
    const start = match.index;
    if (match[0] === '$$') {
      references.push({ start, end: start + 2, kind: 'escape', name: '$', fallback: undefined });
      continue;
    }
    const variable = match[2] === '}' ? VARIABLE.exec(match[1]!) : null;
    if (variable) {
      references.push({
        start,
        end: start + match[0].length,
        kind: 'variable',
        name: variable[1]!,
        fallback: variable[2],
      });
    } else {
      // Only the `${` is masked: the rest may be ordinary text (or a comment) that must keep its meaning.
      references.push({ start, end: start + 2, kind: 'malformed', name: '', fallback: undefined });
    }
  }
  return references;
}

function resolve(reference: Reference, options: EnvSubstitutionOptions): string | undefined {
  if (reference.kind === 'escape') return '$';
  const fromEnv = options.env[reference.name];
  // Shell semantics: `:-` also replaces an empty value.
  if (fromEnv !== undefined && !(fromEnv === '' && reference.fallback !== undefined)) return fromEnv;
  if (reference.name === 'TIMESTAMP') return formatRunTimestamp(options.now);
  return reference.fallback;
}

type Substitution = { reference: Reference; value: string };

/** The scalar's new source text, or why the values cannot be placed in it without changing its meaning. */
function renderScalar(
  text: string,
  scalar: ScalarRegion,
  substitutions: Substitution[],
): string | { reference: Reference; problem: string } {
  const join = (encode: (value: string) => string) => {
    let out = '';
    let cursor = scalar.start;
    for (const { reference, value } of substitutions) {
      out += text.slice(cursor, reference.start) + encode(value);
      cursor = reference.end;
    }
    return out + text.slice(cursor, scalar.end);
  };
  const multiLineScalar = /[\r\n]/.test(text.slice(scalar.start, scalar.end));
  const cannotPlace = (isOffending: (value: string) => boolean, why: string) => {
    const offender = substitutions.find(({ value }) => isOffending(value)) ?? substitutions[0]!;
    const name = offender.reference.kind === 'escape' ? '$$' : `\${${offender.reference.name}}`;
    return { reference: offender.reference, problem: `the value of ${name} ${why}` };
  };

  switch (scalar.style) {
    case 'double-quoted':
      return join(escapeForDoubleQuotes);
    case 'single-quoted': {
      const singleQuotedSource = join((value) => value.replaceAll("'", "''"));
      if (substitutions.every(({ value }) => isPrintableLine(value))) return singleQuotedSource;
      // Single quotes have no escapes: switch the scalar to double quotes, which do.
      if (!multiLineScalar) return doubleQuoted(singleQuotedSource.slice(1, -1).replaceAll("''", "'"));
      return cannotPlace(
        (value) => !isPrintableLine(value),
        'needs escapes; put this value in double quotes',
      );
    }
    case 'block': {
      const hasLineBreak = (value: string) => /[\r\n]/.test(value);
      if (!substitutions.some(({ value }) => hasLineBreak(value))) return join((value) => value);
      return cannotPlace(
        hasLineBreak,
        'spans several lines and cannot go into a | or > block; use double quotes',
      );
    }
    case 'plain': {
      const unquoted = join((value) => value);
      if (!multiLineScalar) {
        return readsAsPlainScalar(unquoted, scalar.inFlow) ? unquoted : doubleQuoted(unquoted);
      }
      // Folding rules make quoting a multi-line plain scalar risky: accept only values that are single words.
      const isWord = (value: string) => readsAsPlainScalar(value, true) && !/\s/.test(value);
      if (substitutions.every(({ value }) => isWord(value))) return unquoted;
      return cannotPlace(
        (value) => !isWord(value),
        'cannot go unquoted into a value continued over several lines; put the value in double quotes',
      );
    }
  }
}

function isPrintableLine(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters looked for
  return !/[\u0000-\u001f\u007f-\u009f]/.test(value.replaceAll('\t', ''));
}
