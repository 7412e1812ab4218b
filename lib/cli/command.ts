import type { CommandSpec, Flags, ParsedArgs } from './spec.ts';

export type Out = (line: string) => void;

/** A command: its spec (flags, help) and what it does with a parsed command line; returns the exit code. */
export interface Command<F extends Flags = Flags> {
  readonly spec: CommandSpec<F>;
  run(args: ParsedArgs<F>, out: Out): Promise<number>;
}

/** Types a command's `run` by its spec's flags. */
export function defineCommand<F extends Flags>(
  spec: CommandSpec<F>,
  run: (args: ParsedArgs<F>, out: Out) => Promise<number>,
): Command<F> {
  return { spec, run };
}
