#!/usr/bin/env node
import { main } from './main.js';
import { processIo } from './io.js';

main(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // One line, never a stack trace; MERGE_GATE_DEBUG=1 shows it.
    const message = (err as Error)?.message ?? String(err);
    process.stderr.write(`merge-gate: internal error: ${message.split('\n')[0]}${process.env.MERGE_GATE_DEBUG ? `\n${(err as Error).stack}` : ' (MERGE_GATE_DEBUG=1 shows the stack)'}\n`);
    process.exitCode = 2;
  },
);
