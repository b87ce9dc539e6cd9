#!/usr/bin/env node
// The published entry point runs the compiled CLI (npm install runs `tsc`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv, process.env);
