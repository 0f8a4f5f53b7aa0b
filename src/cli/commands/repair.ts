import type { RepairReport } from '../checks/report'
import { repairWorkspace } from '../checks/run'
import { describeAction, printVerify } from '../format'
import type { CliIo, Output } from '../output'
import { openCheckContext, resolveWorkspace, withWorkspaceLock } from '../workspace'

/** Options of `saveflow repair`. */
export interface RepairCommandOptions {
  /** Move damaged files that have no valid backup into quarantine (the document then starts empty). */
  quarantineUnrecoverable: boolean
  /** Keep what loads of a log or journal damaged in the middle (a copy of the damaged file goes to quarantine). */
  keepJournalPrefix: boolean
}

/**
 * `saveflow repair <dir>`: what recovery on open would do, under the workspace lock. Exit code: that of a verify
 * afterwards (0 or 2), or 6 when an action failed, or 3 when another process holds the lock.
 */
export async function repairCommand(
  dir: string,
  options: RepairCommandOptions,
  io: CliIo,
  out: Output,
): Promise<number> {
  const workspace = await resolveWorkspace(io.cwd, dir)
  const report = await withWorkspaceLock(workspace, async () => {
    const ctx = await openCheckContext(workspace)
    const bar = out.progress('repairing')
    try {
      return await repairWorkspace(
        ctx,
        workspace,
        {
          quarantineUnrecoverable: options.quarantineUnrecoverable,
          keepJournalPrefix: options.keepJournalPrefix,
        },
        { onProgress: bar.update },
      )
    } finally {
      bar.finish()
    }
  })
  if (out.json) out.printJson(report)
  else printRepair(out, report)
  return report.exitCode
}

function printRepair(out: Output, report: RepairReport): void {
  const { c } = out
  if (report.actions.length === 0) {
    out.line(
      report.before.result === 'healthy' ? c.green('Nothing to repair.') : 'Nothing could be repaired.',
    )
  } else {
    out.line(c.bold(`Repaired (${report.actions.length})`))
    for (const action of report.actions) out.line(`  ${describeAction(c, action)}`)
  }
  out.line()
  out.line(c.bold('Now:'))
  printVerify(out, report.after)
}
