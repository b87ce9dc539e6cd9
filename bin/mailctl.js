#!/usr/bin/env -S node --
// The published entry point runs the compiled CLI (npm install runs `tsc`). "--" ends node's own options: Node 20 would
// otherwise take an --env-file meant for mailctl as its own and load that file into the process (found by a break-it session).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv, process.env);
