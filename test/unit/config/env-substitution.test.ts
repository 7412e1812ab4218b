// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text holding ${VAR} references
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatRunTimestamp, substituteEnv } from '../../../lib/config/env-substitution.ts';
import { ConfigError } from '../../../lib/errors.ts';

const NOW = new Date('2024-12-01T12:03:04.567Z');

function substitute(text: string, env: Record<string, string | undefined> = {}): string {
  return substituteEnv(text, { source: 'backup.yaml', env, now: NOW });
}

/** The parsed YAML after substitution: what the config schema will see. */
function substituteAndParse(text: string, env: Record<string, string | undefined> = {}): unknown {
  return parse(substitute(text, env));
}

function substitutionError(text: string, env: Record<string, string | undefined> = {}): ConfigError {
  try {
    substitute(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('formatRunTimestamp', () => {
  it('formats UTC as yyyyMMdd-HHmmss with zero padding', () => {
    expect(formatRunTimestamp(NOW)).toBe('20241201-120304');
    expect(formatRunTimestamp(new Date('2025-01-02T03:04:05.999Z'))).toBe('20250102-030405');
  });
});

describe('substituteEnv', () => {
  it('replaces ${VAR} from the env record', () => {
    expect(substitute('password: ${KAFKA_PASSWORD}\n', { KAFKA_PASSWORD: 's3cret' })).toBe(
      'password: s3cret\n',
    );
  });

  it('defaults ${TIMESTAMP} to the run start in UTC', () => {
    expect(substituteAndParse('backup_id: "primary-${TIMESTAMP}"\n')).toEqual({
      backup_id: 'primary-20241201-120304',
    });
  });

  it('prefers TIMESTAMP from the env over the run start', () => {
    expect(substituteAndParse('id: x-${TIMESTAMP}\n', { TIMESTAMP: 'manual' })).toEqual({ id: 'x-manual' });
  });

  it('uses ${VAR:-default} when the variable is unset or empty', () => {
    const text = 'a: ${A:-fallback}\nb: ${B:-fallback}\nc: ${C:-}\n';
    expect(substituteAndParse(text, { B: '' })).toEqual({ a: 'fallback', b: 'fallback', c: '' });
    expect(substituteAndParse(text, { A: 'set', B: 'set' })).toMatchObject({ a: 'set', b: 'set' });
  });

  it('substitutes an empty variable without a default as an empty string', () => {
    expect(substituteAndParse('a: ${A}\n', { A: '' })).toEqual({ a: '' });
  });

  it('reads $$ as a literal $, also before {', () => {
    expect(substituteAndParse('a: "cost $$5"\nb: $${NOT_A_VAR}\n')).toEqual({
      a: 'cost $5',
      b: '${NOT_A_VAR}',
    });
  });

  it('names the variable, file and line of an unset variable', () => {
    const error = substitutionError('mode: backup\n\nsource:\n  password: ${KAFKA_PASSWORD}\n');
    expect(error.message).toBe(
      'backup.yaml line 4: ${KAFKA_PASSWORD} is not set; export it or give a default as ${KAFKA_PASSWORD:-value}',
    );
  });

  it('lists every unset variable', () => {
    const error = substitutionError('a: ${ONE}\nb: ${TWO}\nc: ${THREE}\n', { TWO: 'x' });
    expect(error.message.split('\n')).toEqual([
      expect.stringMatching(/^backup\.yaml line 1: \$\{ONE\} is not set/),
      expect.stringMatching(/^backup\.yaml line 3: \$\{THREE\} is not set/),
    ]);
  });

  it('ignores variables in comments, whole-line and trailing', () => {
    const text = '# sasl_password: ${OLD_PASSWORD}\nmode: backup # was ${MODE}\n#${BROKEN\n';
    expect(substitute(text)).toBe(text);
  });

  it('treats # inside quotes as text, not as a comment', () => {
    expect(substitutionError('a: "x # ${MISSING}"\n').message).toContain('${MISSING} is not set');
    expect(substituteAndParse("a: 'x # ${A}'\n", { A: 'y' })).toEqual({ a: 'x # y' });
  });

  it('rejects a malformed reference outside comments without echoing it', () => {
    expect(substitutionError('a: ${1BAD}\n').message).toMatch(/^backup\.yaml line 1: .*starts no valid/);
    const unterminated = substitutionError('a: 1\nb: pre${UNTERMINATED\n').message;
    expect(unterminated).toMatch(/^backup\.yaml line 2: /);
    expect(unterminated).not.toContain('UNTERMINATED');
  });

  it('keeps an unquoted value unquoted so numbers and booleans keep their type', () => {
    expect(substituteAndParse('port: ${PORT}\nflag: ${FLAG}\n', { PORT: '9092', FLAG: 'true' })).toEqual({
      port: 9092,
      flag: true,
    });
  });

  it('never lets a value change the YAML structure of an unquoted scalar', () => {
    const tricky = [
      '*alias',
      '!tag x',
      'a #b',
      'key: value',
      '- item',
      '[x]',
      ' padded ',
      '&anchor',
      '%x',
      '"q',
      '',
    ];
    for (const value of tricky) {
      expect(substituteAndParse('password: ${P}\nnext: 1\n', { P: value })).toEqual({
        password: value,
        next: 1,
      });
    }
  });

  it('escapes values inside double quotes', () => {
    const value = 'a"b\\c\nd\te\u0001';
    expect(substituteAndParse('p: "x${P}y"\n', { P: value })).toEqual({ p: `x${value}y` });
  });

  it("doubles ' inside single quotes and switches to double quotes for control characters", () => {
    expect(substituteAndParse("p: 'x${P}'\n", { P: "it's" })).toEqual({ p: "xit's" });
    expect(substituteAndParse("p: 'it''s ${P}'\n", { P: 'two\nlines' })).toEqual({ p: "it's two\nlines" });
  });

  it('substitutes inside flow sequences', () => {
    const env = { A: 'kafka-0:9092', B: 'kafka-1:9092' };
    expect(substituteAndParse('servers: [${A}, ${B}]\n', env)).toEqual({
      servers: ['kafka-0:9092', 'kafka-1:9092'],
    });
    expect(substituteAndParse('servers: [${A}]\n', { A: 'x, y' })).toEqual({ servers: ['x, y'] });
  });

  it('substitutes single-line values into block scalars and refuses multi-line ones', () => {
    expect(substituteAndParse('note: |\n  user ${U}\n  end\n', { U: 'bob' })).toEqual({
      note: 'user bob\nend\n',
    });
    expect(substitutionError('note: |\n  user ${U}\n', { U: 'a\nb' }).message).toMatch(
      /^backup\.yaml line 2: the value of \$\{U\} spans several lines/,
    );
  });

  it('never moves lines, so later line numbers still match the file', () => {
    const text = 'a: "${P}"\nb: ${Q}\nc: 1\n';
    const out = substitute(text, { P: 'x\ny\nz', Q: 'multi\nline' });
    expect(out.split('\n')).toHaveLength(text.split('\n').length);
    expect(parse(out)).toEqual({ a: 'x\ny\nz', b: 'multi\nline', c: 1 });
  });

  it('refuses a reference outside any value', () => {
    expect(substitutionError('a: &${ANCHOR} 1\n', { ANCHOR: 'x' }).message).toMatch(
      /^backup\.yaml line 1: \$\{ANCHOR\} can only be used inside a value/,
    );
  });
});
