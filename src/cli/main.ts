#!/usr/bin/env node
import { runCli } from './program'

/**
 * Entry point of the `saveflow` command (`npm run saveflow -- <args>`, `node --import tsx src/cli/main.ts`, or the
 * `bin/saveflow.js` wrapper). The exit code is set, not forced with `process.exit`, so a large report written to a
 * pipe is flushed completely first.
 */
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
})
