/**
 * The CLI's exit codes come from the one error table in lib/errors.ts (ERRORS: name -> retriable, exit code),
 * which the README's exit-code table is checked against (test/unit/errors.test.ts).
 */
export { ExitCode, exitCodeFor, exitCodeForName } from '../errors.ts';
