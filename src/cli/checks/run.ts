import { toSaveflowError } from '../../core/errors'
import { listQuarantine } from '../../core/quarantine'
import { EXIT } from '../exit-codes'
import { FIX_TEXT, PROBLEM_TEXT } from '../text'
import { readLockInfo } from '../workspace'
import type { CheckContext, DocumentCheck, KindChecker, RepairOptions } from './checker'
import { CHECKERS } from './checkers'
import {
  type CompactAction,
  type CompactReport,
  type Problem,
  REPORT_FORMAT_VERSION,
  type RepairAction,
  type RepairReport,
  type VerifyReport,
  type VerifyResult,
} from './report'

/**
 * `verify`, `repair` and `compact` over the whole workspace: they walk the checker table and leave everything
 * kind-specific to the checkers. Only the workspace-wide checks live here (temp files, unknown files, quarantine).
 */

/** Called as work advances: `done` of `total` documents checked. */
export type ProgressFn = (done: number, total: number) => void

/** Options shared by the three runs. */
export interface RunOptions {
  /** The checker table. @default CHECKERS */
  checkers?: Readonly<Record<string, KindChecker>>
  onProgress?: ProgressFn
}

/** A verify report and the per-document checks behind it (repair and compact dispatch on them). */
export interface Verified {
  report: VerifyReport
  checks: DocumentCheck[]
}

const RESULT_EXIT = { healthy: 0, repairable: 1, 'needs-choice': 2 } as const

/** The verdict of a list of problems. */
export function resultOf(problems: readonly Problem[]): VerifyResult {
  if (problems.some((problem) => problem.severity === 'needs-choice')) return 'needs-choice'
  if (problems.some((problem) => problem.severity === 'repairable')) return 'repairable'
  return 'healthy'
}

/** Checks every document, backup and leftover of the workspace at `workspace`. Changes nothing on disk. */
export async function verifyWorkspace(
  ctx: CheckContext,
  workspace: string,
  options: RunOptions = {},
): Promise<Verified> {
  const checkers = Object.values(options.checkers ?? CHECKERS)
  const problems: Problem[] = []
  const found: { checker: KindChecker; key: string }[] = []
  for (const checker of checkers) {
    const discovery = await checker.discover(ctx)
    for (const key of discovery.keys) found.push({ checker, key })
    for (const path of discovery.strays) {
      problems.push({
        code: 'unknown-file',
        severity: 'info',
        key: null,
        path,
        message: PROBLEM_TEXT.unknownFile,
        fix: FIX_TEXT.unknownFile,
      })
    }
  }

  const checks: DocumentCheck[] = []
  options.onProgress?.(0, found.length)
  for (const [index, { checker, key }] of found.entries()) {
    const check = await checker.check(ctx, key)
    checks.push(check)
    problems.push(...check.problems)
    options.onProgress?.(index + 1, found.length)
  }

  const tempFiles = await ctx.storage.listTempFiles()
  for (const path of tempFiles) {
    problems.push({
      code: 'temp-file',
      severity: 'repairable',
      key: null,
      path,
      message: PROBLEM_TEXT.tempFile,
      fix: FIX_TEXT.tempFile,
    })
  }

  const result = resultOf(problems)
  const documents = checks.map((check) => check.document)
  const count = (severity: Problem['severity']) => problems.filter((p) => p.severity === severity).length
  const report: VerifyReport = {
    command: 'verify',
    formatVersion: REPORT_FORMAT_VERSION,
    workspace,
    checkedAt: new Date(ctx.now).toISOString(),
    result,
    exitCode: RESULT_EXIT[result],
    summary: {
      documents: documents.length,
      backups: documents.reduce((sum, doc) => sum + doc.backups.length, 0),
      invalidBackups: documents.reduce((sum, doc) => sum + doc.backups.filter((b) => !b.valid).length, 0),
      repairable: count('repairable'),
      needsChoice: count('needs-choice'),
      info: count('info'),
    },
    documents,
    problems,
    tempFiles,
    quarantine: await listQuarantine(ctx.storage),
    lock: await readLockInfo(ctx.storage),
  }
  return { report, checks }
}

/**
 * Does what recovery on open would do, for the whole workspace: removes temp files (before any write, as the
 * storage contract asks), then lets each checker repair its documents. The caller holds the workspace lock. Reports
 * every action; an action that fails is reported and the others go on.
 */
export async function repairWorkspace(
  ctx: CheckContext,
  workspace: string,
  repair: RepairOptions,
  options: RunOptions = {},
): Promise<RepairReport> {
  const table = options.checkers ?? CHECKERS
  const before = await verifyWorkspace(ctx, workspace, options)
  const actions: RepairAction[] = []
  if (before.report.tempFiles.length > 0) {
    try {
      for (const path of await ctx.repository.removeTempFiles()) {
        actions.push({ type: 'temp-file-removed', key: null, path })
      }
    } catch (error) {
      const e = toSaveflowError(error)
      actions.push({
        type: 'failed',
        key: null,
        path: before.report.tempFiles[0] ?? '',
        error: { code: e.code, message: e.message, hint: e.hint },
      })
    }
  }
  for (const check of before.checks) {
    if (!check.problems.some((problem) => problem.severity !== 'info')) continue
    const checker = table[check.document.kind]
    if (checker !== undefined) actions.push(...(await checker.repair(ctx, check, repair)))
  }
  // Checked again from the disk, not inferred: the report says what is true now.
  const after = await verifyWorkspace(ctx, workspace, options)
  const failed = actions.some((action) => action.type === 'failed')
  return {
    command: 'repair',
    formatVersion: REPORT_FORMAT_VERSION,
    workspace,
    before: { result: before.report.result, problems: before.report.problems },
    actions,
    after: after.report,
    exitCode: failed ? EXIT.failed : after.report.exitCode,
  }
}

/**
 * Applies the retention policy: backups beyond `keep` per document, expired caches (journals: compaction, later).
 * The caller holds the workspace lock.
 */
export async function compactWorkspace(
  ctx: CheckContext,
  workspace: string,
  keep: number,
  options: RunOptions = {},
): Promise<CompactReport> {
  const table = options.checkers ?? CHECKERS
  const { checks } = await verifyWorkspace(ctx, workspace, options)
  const actions: CompactAction[] = []
  const skipped: CompactReport['skipped'] = []
  for (const [kind, checker] of Object.entries(table)) {
    const own = checks.filter((check) => check.document.kind === kind)
    const outcome = await checker.compact(ctx, own, { keep })
    actions.push(...outcome.actions)
    skipped.push(...outcome.skipped)
  }
  return {
    command: 'compact',
    formatVersion: REPORT_FORMAT_VERSION,
    workspace,
    keep,
    actions,
    skipped,
    removedBytes: actions.reduce((sum, action) => sum + (action.size ?? 0), 0),
    exitCode: 0,
  }
}
