import nodePath from 'node:path'
import { fileURLToPath } from 'node:url'
import { installExitFlush } from 'saveflow/node'
import { startAppServer } from './app-server'

/**
 * `npm start`: the workspace app on 127.0.0.1. `SAVEFLOW_DIR` names the folder (default `./workspace-data`),
 * `PORT` the port (default 4312; 0 picks a free one), `SAVEFLOW_FAULTS=off` hides the developer fault panel.
 * Ctrl-C (or SIGTERM) lets saves in flight finish, flushes, releases the workspace lock and exits.
 */

const here = nodePath.dirname(fileURLToPath(import.meta.url))
const distDir = nodePath.resolve(here, '../dist')
const dir = nodePath.resolve(process.env.SAVEFLOW_DIR ?? 'workspace-data')
const port = process.env.PORT === undefined || process.env.PORT === '' ? 4312 : Number(process.env.PORT)

const log = (line: string) => console.log(`[saveflow] ${line}`)

if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be a port number (0 picks a free one), not "${process.env.PORT}".`)
  process.exit(2)
}

try {
  const app = await startAppServer({ dir, port, distDir, faults: process.env.SAVEFLOW_FAULTS !== 'off', log })
  installExitFlush({
    flushAll: ({ deadlineMs }) => app.close({ deadlineMs }),
    // The http server keeps the loop alive; only a signal ends this process.
    beforeExit: false,
    onDone: (report) => {
      log(
        report.outcome === 'flushed'
          ? 'everything acknowledged is on disk; the workspace lock is released.'
          : `stopped with the flush ${report.outcome}; unsaved edits stay in the page until it reconnects.`,
      )
    },
  })
  log(`workspace folder: ${dir}${app.seeded ? ' (new: a sample project was created)' : ''}`)
  if (app.workspace.readOnly !== null) log(`read-only: ${app.workspace.readOnly.message}`)
  // The test harness parses this line for the address (PORT=0).
  console.log(`saveflow workspace app: ${app.url}`)
  log('press Ctrl-C to stop.')
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'EADDRINUSE') {
    console.error(`Port ${port} is in use. Set PORT to another port, or PORT=0 for any free one.`)
  } else {
    console.error(error instanceof Error ? error.message : error)
  }
  process.exit(1)
}
