import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { toSaveflowError } from '../../core/errors'
import { documentPath } from '../../core/paths'
import { createSampleWorkspace, SAMPLE_SIZES, type SampleName } from '../../core/sample-data'
import { inspectDocument } from '../checks/inspect-file'
import { type InitReport, REPORT_FORMAT_VERSION } from '../checks/report'
import { CliError } from '../cli-error'
import { EXIT } from '../exit-codes'
import { formatBytes } from '../format'
import type { CliIo, Output } from '../output'
import { folderState, openCheckContext, withWorkspaceLock } from '../workspace'

/** Options of `saveflow init`. */
export interface InitCommandOptions {
  sample: SampleName
  seed: number
  force: boolean
}

/**
 * `saveflow init <dir> [--sample empty|small|large] [--seed n] [--force]`: writes a deterministic sample workspace
 * through the repository (validated, atomic, durable). Refuses a folder that is not empty unless `--force`; with it,
 * every file it replaces is backed up first (or, when it does not verify, moved to quarantine).
 */
export async function initCommand(
  dir: string,
  options: InitCommandOptions,
  io: CliIo,
  out: Output,
): Promise<number> {
  const workspace = resolve(io.cwd, dir)
  const state = await folderState(workspace)
  if (state === 'file') throw new CliError('not-a-folder', workspace, EXIT.badPath)
  if ((state === 'workspace' || state === 'other') && !options.force) {
    throw new CliError('not-empty', workspace, EXIT.badPath)
  }
  try {
    await mkdir(workspace, { recursive: true, mode: 0o700 })
  } catch (error) {
    throw toSaveflowError(error)
  }

  const report = await withWorkspaceLock(workspace, async (): Promise<InitReport> => {
    const ctx = await openCheckContext(workspace)
    const sample = createSampleWorkspace(options.sample, { seed: options.seed })
    // Settings first and the project last: the project lists the conversations, so it never names a missing one.
    const documents: [string, unknown][] = [
      ['settings', sample.settings],
      ...sample.conversations.map((c): [string, unknown] => [`conversation/${c.id}`, c]),
      ['project', sample.project],
    ]
    const files: InitReport['files'] = []
    const bar = out.progress('writing')
    for (const [index, [key, data]] of documents.entries()) {
      const path = documentPath(key)
      const existing = await inspectDocument(ctx.storage, key, ctx.repository.definitionFor(key))
      if (existing.status === 'ok') await ctx.repository.backupNow(key)
      else if (existing.status !== 'missing') await ctx.repository.quarantine(key, 'replaced-by-init')
      const revision = (existing.snapshot?.revision ?? 0) + 1
      const written = await ctx.repository.save(key, data, revision)
      files.push({ key, path, bytes: written.bytes, revision })
      bar.update(index + 1, documents.length)
    }
    bar.finish()
    return {
      command: 'init',
      formatVersion: REPORT_FORMAT_VERSION,
      workspace,
      sample: options.sample,
      seed: options.seed,
      nodes: sample.project.tree.length,
      conversations: sample.conversations.length,
      messages: sample.conversations.reduce((sum, c) => sum + c.messages.length, 0),
      totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
      files,
    }
  })

  if (out.json) out.printJson(report)
  else {
    out.line(
      out.c.green(
        `Created a ${report.sample} workspace in ${report.workspace}: ${report.nodes} tree nodes, ${report.conversations} conversations, ${report.messages} messages, ${formatBytes(report.totalBytes)} in ${report.files.length} files.`,
      ),
    )
  }
  return EXIT.ok
}

/** The names `--sample` accepts. */
export const SAMPLE_NAMES = Object.keys(SAMPLE_SIZES) as SampleName[]
