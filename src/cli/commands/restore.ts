import { resolveBackup } from '../../core/backups'
import { documentPath, parseDocumentKey } from '../../core/paths'
import { inspectBackups } from '../checks/inspect-file'
import { REPORT_FORMAT_VERSION, type RestoreReport } from '../checks/report'
import { CliError } from '../cli-error'
import { EXIT } from '../exit-codes'
import { formatTime } from '../format'
import type { CliIo, Output } from '../output'
import { openCheckContext, resolveWorkspace, withWorkspaceLock } from '../workspace'

/**
 * `saveflow restore <dir> <doc> [backup-id | --latest]`: puts a verified backup in place of the document, under
 * the workspace lock. The file it replaces becomes a backup itself (or, when damaged, a copy goes to quarantine),
 * so a restore can always be undone.
 */
export async function restoreCommand(
  dir: string,
  doc: string,
  backupId: string | undefined,
  options: { latest: boolean },
  io: CliIo,
  out: Output,
): Promise<number> {
  if ((backupId === undefined) === !options.latest) {
    throw new CliError('usage', 'Give either a backup id or --latest.', EXIT.usage)
  }
  const workspace = await resolveWorkspace(io.cwd, dir)
  parseDocumentKey(doc)
  // A malformed id is refused before anything is read: it never reaches a path.
  if (backupId !== undefined) {
    try {
      resolveBackup(doc, backupId)
    } catch (error) {
      throw new CliError('unknown-backup', backupId, EXIT.badId, { cause: error })
    }
  }

  const report = await withWorkspaceLock(workspace, async (): Promise<RestoreReport> => {
    const ctx = await openCheckContext(workspace)
    const definition = ctx.repository.definitionFor(doc)
    if (!definition.backup.enabled) throw new CliError('nothing-to-restore', doc, EXIT.failed)
    const backups = await inspectBackups(ctx.storage, definition, doc)
    let chosen: (typeof backups)[number] | undefined
    if (backupId === undefined) {
      if (backups.length === 0) throw new CliError('nothing-to-restore', doc, EXIT.failed)
      chosen = backups.find((backup) => backup.valid)
      if (chosen === undefined) throw new CliError('no-valid-backup', doc, EXIT.failed)
    } else {
      chosen = backups.find((backup) => backup.name === backupId)
      if (chosen === undefined) throw new CliError('unknown-backup', backupId, EXIT.badId)
      if (!chosen.valid) throw new CliError('backup-invalid', backupId, EXIT.failed)
    }
    const seen = ctx.events.length
    const restored = await ctx.repository.restoreBackup(doc, chosen.name)
    const events = ctx.events.slice(seen)
    const kept = events.find((event) => event.type === 'backup.created' && event.reason === 'restore')
    const copy = events.find((event) => event.type === 'quarantined')
    const keptAs = kept?.type === 'backup.created' ? kept.backup : null
    return {
      command: 'restore',
      formatVersion: REPORT_FORMAT_VERSION,
      workspace,
      key: doc,
      path: documentPath(doc),
      restored: { name: chosen.name, revision: restored.revision, takenAt: chosen.takenAt },
      replaced: {
        keptAs: keptAs?.name ?? null,
        revision: keptAs?.revision ?? null,
        quarantined: copy?.type === 'quarantined' ? copy.result.to : null,
      },
      undo: keptAs === null ? null : `saveflow restore ${quote(dir)} ${doc} ${keptAs.name}`,
    }
  })

  if (out.json) {
    out.printJson(report)
    return EXIT.ok
  }
  const { c } = out
  out.line(
    c.green(
      `Restored ${report.key} (${report.path}) from backup ${report.restored.name} (revision ${report.restored.revision}, taken ${formatTime(report.restored.takenAt)}).`,
    ),
  )
  if (report.replaced.keptAs !== null) {
    out.line(
      `The file it replaced (revision ${report.replaced.revision}) is kept as backup ${report.replaced.keptAs}.`,
    )
    out.line(`Undo with: ${report.undo}`)
  } else if (report.replaced.quarantined !== null) {
    out.line(`The file it replaced did not verify; a copy is kept in ${report.replaced.quarantined}.`)
  }
  return EXIT.ok
}

/** Quotes a path for a shell only when it needs it. */
function quote(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`
}
