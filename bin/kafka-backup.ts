#!/usr/bin/env node
// The kafka-backup CLI. Node 24 runs this TypeScript file directly (type stripping): no build step.
import { main } from '../lib/cli/main.ts';

/**
 * How long a finished command may linger. Clients are closed with deadlines, but a socket to a broker that died
 * mid-request, or a timer of a library, must never keep a finished command (or a Fargate task) alive.
 */
const EXIT_GRACE_MS = 2_000;

const code = await main(process.argv.slice(2));
process.exitCode = code;
setTimeout(() => {
  // Output first: process.exit does not wait for writes to a pipe.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}, EXIT_GRACE_MS).unref();
