import { basename, dirname, resolve } from 'node:path'
import { listBackups } from '../../core/backups'
import { documentPath } from '../../core/paths'
import type { Conversation, ProjectData, UserSettings } from '../../core/schemas'
import { createFsStorage } from '../../node/fs-backend'
import { CHECKERS } from '../checks/checkers'
import { inspectDocument } from '../checks/inspect-file'
import { EXIT } from '../exit-codes'
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION, type ExportFile } from '../export-format'
import { formatBytes } from '../format'
import type { CliIo, Output } from '../output'
import { openCheckContext, resolveWorkspace } from '../workspace'

/** The document kinds an export holds; caches are rebuildable and left out. */
const EXPORTED_KINDS = ['project', 'settings', 'conversation'] as const

/**
 * `saveflow export <dir> <file>`: one JSON file (`-` for stdout) of the project, the settings and every
 * conversation, verified data only; see `export-format.ts`. Documents that do not verify are listed under `skipped`
 * and the exit code is 1. Reads the workspace only; the file is written atomically, mode 0600 (settings may hold keys).
 */
export async function exportCommand(
  dir: string,
  file: string,
  options: { pretty: boolean },
  io: CliIo,
  out: Output,
): Promise<number> {
  const workspace = await resolveWorkspace(io.cwd, dir)
  const ctx = await openCheckContext(workspace)
  const result: ExportFile = {
    format: EXPORT_FORMAT,
    formatVersion: EXPORT_FORMAT_VERSION,
    exportedAt: new Date(ctx.now).toISOString(),
    project: null,
    settings: null,
    conversations: [],
    documents: [],
    skipped: [],
  }
  for (const kind of EXPORTED_KINDS) {
    for (const key of (await CHECKERS[kind]!.discover(ctx)).keys) {
      const definition = ctx.repository.definitionFor(key)
      const path = documentPath(key)
      const inspected = await inspectDocument(ctx.storage, key, definition)
      const loaded = inspected.result
      if (!loaded.ok) {
        // Never there at all is not a loss; a missing file with backups is (it needs a repair first).
        const lost = inspected.status !== 'missing' || (await listBackups(ctx.storage, key)).length > 0
        if (lost) {
          const error = loaded.error
          result.skipped.push({
            key,
            path,
            status: inspected.status,
            code: error.code,
            message: error.message,
          })
        }
        continue
      }
      // A log damaged in the middle loads only up to the damage: not the whole document, so it is left out too.
      const damage = inspected.journal?.damage
      if (damage !== undefined) {
        const { code, message } = damage
        result.skipped.push({ key, path: inspected.path, status: 'corrupt', code, message })
        continue
      }
      if (kind === 'project') result.project = loaded.data as ProjectData
      else if (kind === 'settings') result.settings = loaded.data as UserSettings
      else result.conversations.push(loaded.data as Conversation)
      result.documents.push({
        key,
        revision: loaded.revision,
        savedAt: loaded.savedAt,
        schemaVersion: definition.schemaVersion,
      })
    }
  }

  const text = `${JSON.stringify(result, null, options.pretty ? 2 : undefined)}\n`
  // With the data on stdout, everything said to a person goes to stderr.
  const say = file === '-' ? out.note : out.line
  if (file === '-') io.stdout.write(text)
  else {
    const target = resolve(io.cwd, file)
    await createFsStorage(dirname(target)).writeAtomic(basename(target), text)
  }
  const c = file === '-' ? out.ce : out.c
  const where = file === '-' ? 'stdout' : resolve(io.cwd, file)
  say(
    c.green(
      `Exported ${result.project === null ? 'no project' : `the project (${result.project.tree.length} nodes)`}, ${result.settings === null ? 'no settings' : 'the settings'} and ${result.conversations.length} conversation(s) to ${where} (${formatBytes(Buffer.byteLength(text))}).`,
    ),
  )
  for (const skipped of result.skipped) {
    say(
      c.yellow(
        `Left out ${skipped.key} (${skipped.status}): ${skipped.message} Run "saveflow verify" for details.`,
      ),
    )
  }
  return result.skipped.length > 0 ? EXIT.repairable : EXIT.ok
}
