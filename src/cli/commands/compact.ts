import type { CompactReport } from '../checks/report'
import { compactWorkspace } from '../checks/run'
import { formatBytes } from '../format'
import type { CliIo, Output } from '../output'
import { openCheckContext, resolveWorkspace, withWorkspaceLock } from '../workspace'

/**
 * `saveflow compact <dir> [--keep n]`: removes backups beyond the workspace's `backupCount` (or `--keep`) and
 * expired caches, under the workspace lock. A document whose file does not verify keeps all its backups.
 */
export async function compactCommand(
  dir: string,
  options: { keep: number | undefined },
  io: CliIo,
  out: Output,
): Promise<number> {
  const workspace = await resolveWorkspace(io.cwd, dir)
  const report = await withWorkspaceLock(workspace, async () => {
    const ctx = await openCheckContext(workspace)
    const bar = out.progress('compacting')
    try {
      return await compactWorkspace(ctx, workspace, options.keep ?? ctx.config.backupCount, {
        onProgress: bar.update,
      })
    } finally {
      bar.finish()
    }
  })
  if (out.json) out.printJson(report)
  else printCompact(out, report)
  return report.exitCode
}

function printCompact(out: Output, report: CompactReport): void {
  const { c } = out
  const count = (type: CompactReport['actions'][number]['type']) =>
    report.actions.filter((action) => action.type === type).length
  const pruned = count('backup-pruned')
  const caches = count('cache-dropped')
  const logs = count('journal-compacted')
  for (const action of report.actions) {
    if (action.type === 'backup-pruned')
      out.line(`  removed backup ${action.path} (revision ${action.revision})`)
    else if (action.type === 'cache-dropped') out.line(`  removed cache ${action.path} (${action.reason})`)
    else out.line(`  compacted ${action.path}: ${formatBytes(action.before)} -> ${formatBytes(action.after)}`)
  }
  for (const skip of report.skipped) out.line(c.yellow(`  kept every backup of ${skip.key}: ${skip.reason}`))
  out.line(
    report.actions.length === 0
      ? c.green(`Nothing to compact (keeping ${report.keep} backups per document).`)
      : c.green(
          `Removed ${pruned} old backup(s) and ${caches} cache file(s), compacted ${logs} log(s), ${formatBytes(report.removedBytes)} freed; keeping ${report.keep} backups per document.`,
        ),
  )
}
