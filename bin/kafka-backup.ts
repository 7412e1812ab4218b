#!/usr/bin/env node
// The kafka-backup CLI. Node 24 runs this TypeScript file directly (type stripping): no build step.
import { main } from '../lib/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
