import type {
  BackupReport,
  DocumentReport,
  Problem,
  RepairAction,
  Severity,
  VerifyReport,
} from './checks/report'
import type { Colors, Output } from './output'

/** The human-readable forms of the reports (the `--json` forms are the report objects themselves). */

/** `412 B`, `17.2 KB`, `19.8 MB`. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-'
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** `2026-01-15 10:30:00Z` from an ISO time: short, sortable, unambiguous. */
export function formatTime(iso: string | null): string {
  if (iso === null || iso === '') return '-'
  return iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

function mark(c: Colors, severity: Severity): string {
  if (severity === 'needs-choice') return c.red('✗')
  if (severity === 'repairable') return c.yellow('!')
  return c.dim('i')
}

/** The status padded to `width` first, so colour codes never upset the columns. */
export function statusText(c: Colors, status: DocumentReport['status'], width = 0): string {
  const text = status.padEnd(width)
  if (status === 'ok') return c.green(text)
  if (status === 'missing' || status === 'expired') return c.dim(text)
  return c.red(text)
}

function backupSummary(backups: BackupReport[]): string {
  if (backups.length === 0) return 'no backups'
  const invalid = backups.filter((backup) => !backup.valid).length
  return invalid === 0
    ? plural(backups.length, 'backup')
    : `${plural(backups.length, 'backup')} (${invalid} invalid)`
}

/** Documents listed one per line before the rest are summed up: a 200-conversation workspace stays readable. */
const LIST_LIMIT = 12

/** Prints a verify report. */
export function printVerify(out: Output, report: VerifyReport): void {
  const { c } = out
  out.line(`${c.bold('Workspace')} ${report.workspace}`)
  const keyWidth = Math.min(40, Math.max(12, ...report.documents.map((doc) => doc.key.length)))
  const shown = report.documents.filter(
    (doc, index) =>
      index < LIST_LIMIT || doc.status !== 'ok' || doc.kind === 'project' || doc.kind === 'settings',
  )
  for (const doc of shown) {
    const revision = doc.revision === null ? '' : `r${doc.revision}`
    out.line(
      `  ${doc.key.padEnd(keyWidth)}  ${statusText(c, doc.status, 14)} ${revision.padEnd(6)} ${formatBytes(doc.size).padStart(9)}  ${doc.kind === 'cache' ? '' : backupSummary(doc.backups)}`,
    )
  }
  const hidden = report.documents.length - shown.length
  if (hidden > 0) out.line(c.dim(`  ... and ${plural(hidden, 'more document')}, all ok`))

  if (report.problems.length > 0) {
    out.line()
    out.line(c.bold(`Problems (${report.problems.length})`))
    for (const problem of report.problems) printProblem(out, problem)
  }
  if (report.quarantine.length > 0) {
    out.line()
    out.line(
      c.dim(`${plural(report.quarantine.length, 'file')} in .saveflow/quarantine/ (kept, never deleted).`),
    )
  }
  if (report.lock !== null) {
    out.line(
      c.yellow(
        `The lock file names pid ${report.lock.pid} on ${report.lock.host} (since ${formatTime(report.lock.startedAt)}): another process may be writing.`,
      ),
    )
  }
  out.line()
  out.line(verdict(c, report))
}

function printProblem(out: Output, problem: Problem): void {
  const { c } = out
  out.line(`  ${mark(c, problem.severity)} ${c.bold(problem.code)}  ${problem.path}`)
  out.line(`      ${problem.message}`)
  if (problem.fix !== null) out.line(c.dim(`      ${problem.fix}`))
}

/** The one-line verdict, ending with the exit code it stands for. */
export function verdict(c: Colors, report: VerifyReport): string {
  const { summary } = report
  if (report.result === 'healthy') {
    return c.green(
      `Healthy: ${plural(summary.documents, 'document')} and ${plural(summary.backups, 'backup')} verified.`,
    )
  }
  if (report.result === 'repairable') {
    return c.yellow(`${plural(summary.repairable, 'problem')} that "saveflow repair" can fix (exit code 1).`)
  }
  return c.red(
    `${plural(summary.needsChoice, 'problem')} that cannot be recovered without a choice${summary.repairable > 0 ? `, ${summary.repairable} that repair can fix` : ''} (exit code 2).`,
  )
}

/** One line per repair action. */
export function describeAction(c: Colors, action: RepairAction): string {
  switch (action.type) {
    case 'temp-file-removed':
      return `removed the temp file ${action.path}`
    case 'backup-quarantined':
      return `moved the damaged backup ${action.path} to ${action.to}`
    case 'restored':
      return `restored ${action.path} from backup ${action.backup} (revision ${action.revision})${action.quarantined === null ? '' : `; the damaged file is kept as ${action.quarantined}`}`
    case 'quarantined':
      return `moved the unrecoverable ${action.path} to ${action.to}`
    case 'cache-dropped':
      return `removed the cache ${action.path} (${action.reason})`
    case 'journal-repaired':
      return `rewrote ${action.path} without its torn or damaged part${action.quarantined === null ? '' : `; the old file is kept as ${action.quarantined}`}`
    case 'failed':
      return c.red(`FAILED on ${action.path}: ${action.error.message} ${action.error.hint}`)
  }
}
