import { toSaveflowError } from '../../core/errors'
import { parseDocumentKey } from '../../core/paths'
import { CHECKERS } from '../checks/checkers'
import { type BackupNowReport, REPORT_FORMAT_VERSION } from '../checks/report'
import { CliError } from '../cli-error'
import { EXIT } from '../exit-codes'
import type { CliIo, Output } from '../output'
import { openCheckContext, resolveWorkspace, withWorkspaceLock } from '../workspace'

/**
 * `saveflow backup <dir> [doc]`: takes a backup of one document, or of every document that verifies, now (ignoring
 * the backup interval), under the workspace lock. Exit 6 when a document did not verify.
 */
export async function backupCommand(
  dir: string,
  doc: string | undefined,
  io: CliIo,
  out: Output,
): Promise<number> {
  const workspace = await resolveWorkspace(io.cwd, dir)
  if (doc !== undefined) parseDocumentKey(doc)
  const report = await withWorkspaceLock(workspace, async (): Promise<BackupNowReport> => {
    const ctx = await openCheckContext(workspace)
    let keys: string[]
    if (doc === undefined) {
      keys = []
      for (const checker of Object.values(CHECKERS)) keys.push(...(await checker.discover(ctx)).keys)
    } else keys = [doc]
    const taken: BackupNowReport['taken'] = []
    const refused: BackupNowReport['refused'] = []
    for (const key of keys) {
      if (!ctx.repository.definitionFor(key).backup.enabled) continue
      try {
        const backup = await ctx.repository.backupNow(key)
        if (backup !== null) taken.push({ key, name: backup.name, revision: backup.revision })
        else if (doc !== undefined) throw new CliError('unknown-document', key, EXIT.badId)
      } catch (error) {
        if (error instanceof CliError) throw error
        const e = toSaveflowError(error)
        refused.push({ key, code: e.code, message: e.message })
      }
    }
    return { command: 'backup', formatVersion: REPORT_FORMAT_VERSION, workspace, taken, refused }
  })
  if (out.json) out.printJson(report)
  else {
    for (const item of report.taken)
      out.line(`backed up ${item.key} (revision ${item.revision}) as ${item.name}`)
    for (const item of report.refused) out.line(out.c.red(`not backed up: ${item.key}: ${item.message}`))
    if (report.taken.length === 0 && report.refused.length === 0) out.line('Nothing to back up.')
  }
  return report.refused.length > 0 ? EXIT.failed : EXIT.ok
}
