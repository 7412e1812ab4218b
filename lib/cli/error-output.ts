import { exitCodeFor, isUserError } from '../errors.ts';
import { JSON_FORMAT_VERSION } from './output.ts';

/** First letter up: every message a user reads starts as a sentence (some engine messages start lower-case). */
export function sentence(text: string): string {
  return /^[a-z]+\b(?![-_./:@'"])/.test(text) ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

export interface ErrorJson {
  name: string;
  message: string;
  hint: string | null;
  exit_code: number;
}

/** The `--format json` shape of an error, the same for every command (and for a failed workflow's step). */
export function errorJson(e: unknown): ErrorJson {
  const user = isUserError(e);
  const message = e instanceof Error ? e.message : String(e);
  return {
    name: user ? e.name : 'UnexpectedError',
    message: user ? sentence(message) : `Unexpected error (a bug; please report it): ${message}`,
    hint: user ? (e.hint === undefined ? null : sentence(e.hint)) : null,
    exit_code: exitCodeFor(e),
  };
}

export function errorDocument(e: unknown): { format_version: number; error: ErrorJson } {
  return { format_version: JSON_FORMAT_VERSION, error: errorJson(e) };
}

/** On stderr: a user error as `error:` and `hint:` lines, anything else (a bug) with its stack. */
export function printError(e: unknown): void {
  if (isUserError(e)) {
    process.stderr.write(`\nerror: ${sentence(e.message)}\n`);
    if (e.hint) process.stderr.write(`hint: ${sentence(e.hint)}\n`);
  } else {
    process.stderr.write(
      `\nunexpected error (a bug; please report it with this output):\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
  }
}
