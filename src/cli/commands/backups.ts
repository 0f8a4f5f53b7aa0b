import { parseDocumentKey } from '../../core/paths'
import { CHECKERS } from '../checks/checkers'
import type { BackupReport, BackupsReport, DocumentReport } from '../checks/report'
import { REPORT_FORMAT_VERSION } from '../checks/report'
import { verifyWorkspace } from '../checks/run'
import { CliError } from '../cli-error'
import { EXIT } from '../exit-codes'
import { formatBytes, formatTime } from '../format'
import type { CliIo, Output } from '../output'
import { openCheckContext, resolveWorkspace } from '../workspace'

/**
 * `saveflow backups <dir> [doc]`: the backups of one document, or of every document that has any, newest first,
 * each verified. Changes nothing.
 */
export async function backupsCommand(
  dir: string,
  doc: string | undefined,
  io: CliIo,
  out: Output,
): Promise<number> {
  const workspace = await resolveWorkspace(io.cwd, dir)
  const ctx = await openCheckContext(workspace)
  let documents: DocumentReport[]
  if (doc !== undefined) {
    const { kind } = parseDocumentKey(doc)
    const { document } = await CHECKERS[kind]!.check(ctx, doc)
    // project and settings always exist as names; a conversation or cache with no trace names nothing.
    if (
      document.status === 'missing' &&
      document.backups.length === 0 &&
      kind !== 'project' &&
      kind !== 'settings'
    ) {
      throw new CliError('unknown-document', doc, EXIT.badId)
    }
    documents = [document]
  } else {
    const bar = out.progress('checking')
    const { report } = await verifyWorkspace(ctx, workspace, { onProgress: bar.update })
    bar.finish()
    documents = report.documents.filter((document) => document.backups.length > 0)
  }

  const report: BackupsReport = {
    command: 'backups',
    formatVersion: REPORT_FORMAT_VERSION,
    workspace,
    documents: documents.map(({ key, path, backups }) => ({ key, path, backups })),
  }
  if (out.json) {
    out.printJson(report)
    return EXIT.ok
  }
  if (report.documents.length === 0) out.line('No backups in this workspace.')
  for (const document of report.documents) {
    out.line(
      `${out.c.bold(document.key)} (${document.path}): ${document.backups.length} backup(s), newest first`,
    )
    if (document.backups.length === 0) {
      out.line(out.c.dim(doc?.startsWith('cache/') ? '  caches are never backed up' : '  none'))
    }
    for (const backup of document.backups) out.line(`  ${backupLine(out, backup)}`)
  }
  return EXIT.ok
}

function backupLine(out: Output, backup: BackupReport): string {
  const { c } = out
  const validity = backup.valid
    ? c.green('valid')
    : c.red(`INVALID: ${backup.status}${backup.error?.reason ? ` (${backup.error.reason})` : ''}`)
  return `${backup.name.padEnd(28)}  ${formatTime(backup.takenAt)}  ${`r${backup.revision}`.padEnd(6)} ${formatBytes(backup.size).padStart(9)}  ${validity}`
}
