#!/usr/bin/env node
import { runCli } from './program'

/**
 * Entry point of the `saveflow` command (`npm run saveflow -- <args>`, `node --import tsx src/cli/main.ts`, or the
 * `bin/saveflow.js` wrapper). The exit code is set, not forced with `process.exit`, so a large report written to a
 * pipe is flushed completely first.
 */
// A reader that stops early (`saveflow verify <dir> | head`) closes the pipe: the rest of the output has nowhere to
// go. That is no failure of the command, whose work is done and whose exit code stands, and never a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
  })
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
})
