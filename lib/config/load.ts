import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { suggestKey } from './did-you-mean.ts';
import { substituteEnv } from './env-substitution.ts';
import { knownKeysAt } from './known-keys.ts';
import { type BackupConfig, Config, type RestoreConfig } from './schema.ts';
import { readYamlDocument } from './yaml-document.ts';
import { formatPath, lineOfPath } from './yaml-locations.ts';
import { configErrorMap } from './zod-messages.ts';

export interface ConfigParseOptions {
  /** The file name messages start with. */
  source: string;
  /** Values for `${VAR}`; process.env when omitted. */
  env?: Readonly<Record<string, string | undefined>>;
  /** When the run started, the default for `${TIMESTAMP}`; now when omitted. */
  now?: Date;
}

export type ConfigLoadOptions = Omit<ConfigParseOptions, 'source'>;

/**
 * Parses and validates a config text. Throws one ConfigError listing every problem found, one per line, as
 * `<file> line N: <yaml.path>: <what is wrong>`; messages never contain secret values.
 */
export function parseConfig(text: string, options: ConfigParseOptions): Config {
  return parseForMode(text, options, undefined);
}

export function parseBackupConfig(text: string, options: ConfigParseOptions): BackupConfig {
  return parseForMode(text, options, 'backup');
}

export function parseRestoreConfig(text: string, options: ConfigParseOptions): RestoreConfig {
  return parseForMode(text, options, 'restore');
}

type ConfigOfMode<M extends Config['mode'] | undefined> = M extends Config['mode']
  ? Extract<Config, { mode: M }>
  : Config;

function parseForMode<M extends Config['mode'] | undefined>(
  text: string,
  options: ConfigParseOptions,
  mode: M,
): ConfigOfMode<M> {
  const substituted = substituteEnv(text, {
    source: options.source,
    env: options.env ?? process.env,
    now: options.now ?? new Date(),
  });
  const { doc, lineCounter, data } = readYamlDocument(substituted, options.source);

  const givenMode = data['mode'];
  if (
    mode !== undefined &&
    givenMode !== mode &&
    Config.options.some((branch) => branch.shape.mode.value === givenMode)
  ) {
    // A restore file handed to `backup` would otherwise fail on every restore-only key.
    throw new ConfigError(
      `${options.source} line ${lineOfPath(doc, lineCounter, ['mode'])}: mode: is ${givenMode}, but this command needs mode: ${mode}`,
      {
        hint:
          mode === 'backup'
            ? 'Give a backup config (mode: backup); a restore config goes to kafka-backup restore or three-phase-restore.'
            : 'Give a restore config (mode: restore); a backup config goes to kafka-backup backup.',
      },
    );
  }

  const result = Config.safeParse(data, { error: configErrorMap });
  if (result.success) return result.data as ConfigOfMode<M>;
  const problems = describeIssues(result.error.issues, data).map(({ path, message }) => ({
    line: lineOfPath(doc, lineCounter, path),
    text: `${formatPath(path)}: ${message}`,
  }));
  problems.sort((a, b) => a.line - b.line);
  const lines = problems.map(({ line, text }) => `${options.source} line ${line}: ${text}`);
  throw new ConfigError([...new Set(lines)].join('\n'), {
    hint: `Fix the field${problems.length > 1 ? 's' : ''} named above; the README ("Back up", "Restore") lists every field of a config.`,
  });
}

function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  data: unknown,
): Array<{ path: PropertyKey[]; message: string }> {
  return issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [{ path: issue.path, message: issue.message }];
    const known = knownKeysAt(Config, issue.path, data);
    return issue.keys.map((key) => {
      const suggestion = suggestKey(key, known);
      return {
        path: [...issue.path, key],
        message: suggestion ? `unknown key (did you mean "${suggestion}"?)` : 'unknown key',
      };
    });
  });
}

/** Reads, substitutes and validates a config file; `path` as given is the file name in messages. */
export function loadConfig(path: string, options: ConfigLoadOptions = {}): Config {
  return parseConfig(readConfigFile(path), { ...options, source: path });
}

export function loadBackupConfig(path: string, options: ConfigLoadOptions = {}): BackupConfig {
  return parseBackupConfig(readConfigFile(path), { ...options, source: path });
}

export function loadRestoreConfig(path: string, options: ConfigLoadOptions = {}): RestoreConfig {
  return parseRestoreConfig(readConfigFile(path), { ...options, source: path });
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new ConfigError(`${path}: config file not found`, {
        hint: 'Check the path given to --config (relative paths start in the current folder).',
        cause: error,
      });
    if (code === 'EISDIR') {
      throw new ConfigError(`${path}: is a directory, not a config file`, {
        hint: 'Give --config the YAML file itself, not its folder.',
        cause: error,
      });
    }
    throw new ConfigError(`${path}: cannot read the config file (${code ?? (error as Error).message})`, {
      hint: 'Let the user running kafka-backup read the file.',
      cause: error,
    });
  }
}
