import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';

export { UsageError };

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** Shared by every command: where S3-compatible storage lives when it is not AWS. */
export const storageOptions = {
  path: { type: 'string' },
  'backup-id': { type: 'string' },
  format: { type: 'string' },
  's3-endpoint': { type: 'string' },
  region: { type: 'string' },
  /** An encrypted location (storage.encryption): its key file, or its KMS key. */
  'key-file': { type: 'string' },
  'kms-key-id': { type: 'string' },
} as const satisfies OptionSpec;

export function parseCommandArgs<T extends OptionSpec>(
  command: string,
  argv: string[],
  options: T,
  usage: string,
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`, { hint: `Usage: ${usage}` });
  }
}

export function requireOption(
  values: Record<string, unknown>,
  name: string,
  command: string,
  usage: string,
): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '')
    throw new UsageError(`${command}: --${name} is required`, { hint: `Usage: ${usage}` });
  return v;
}

export function outputFormat(values: Record<string, unknown>, command: string): 'json' | 'table' {
  const f = values['format'];
  if (f === undefined) return 'table';
  if (f === 'json' || f === 'table') return f;
  throw new UsageError(`${command}: --format must be json or table, not "${String(f)}"`);
}
