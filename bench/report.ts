/** Renders results: the console table, the README section, and `latest.json`. */
import { readFile, writeFile } from 'node:fs/promises'
import type { AuditResult } from './audit'
import type { CaseResult } from './results-model'

/** The machine and the run, beside the figures. */
export interface MachineInfo {
  cpu: string
  cores: number
  memoryGb: number
  node: string
  platform: string
  date: string
  /** 1-minute load average at the start and at the end of the run. */
  loadStart: number
  loadEnd: number
  tmpdir: string
  /** The tree measured: HEAD, the last commit of the repository module, and whether src/core had local changes. */
  git: { head: string; repositoryCommit: string; coreDirty: boolean }
  durationS: number
}

/** The whole of `latest.json`. */
export interface BenchResults {
  mode: 'full' | 'quick'
  machine: MachineInfo
  cases: CaseResult[]
  audit: AuditResult | null
}

const VERDICT_MARK = { good: '✅', warn: '⚠️', bad: '❌' } as const

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** The results table as Markdown. */
export function casesTable(cases: readonly CaseResult[]): string {
  const lines = [
    '| case | target | saveflow | reference / peers | ratio | met? |',
    '|---|---|---|---|---|---|',
  ]
  for (const c of cases) {
    const verdict = c.met
      ? 'met'
      : `**missed**: ${c.checks
          .filter((k) => !k.met)
          .map((k) => `${k.label}: ${k.value}`)
          .join('; ')}. Limited by ${c.limitedBy ?? 'see notes'}`
    lines.push(
      `| ${cell(`${c.id} ${c.title}`)} | ${cell(c.target)} | ${cell(c.saveflowText)} | ${cell(c.othersText)} | ${cell(c.ratioText)} | ${cell(verdict)} |`,
    )
  }
  return lines.join('\n')
}

/** The durability audit as Markdown: one row per property, one column per library. */
export function auditTable(audit: AuditResult): string {
  const ids = audit.subjects.map((s) => s.id)
  const lines = [
    `| property | ${audit.subjects.map((s) => cell(s.name)).join(' | ')} |`,
    `|---|${ids.map(() => '---').join('|')}|`,
  ]
  for (const row of audit.rows) {
    const cells = ids.map((id) => {
      const c = row.cells[id]
      return c === undefined ? 'n/a' : cell(`${VERDICT_MARK[c.verdict]} ${c.text}`)
    })
    lines.push(`| ${cell(row.property)} | ${cells.join(' | ')} |`)
  }
  lines.push('', 'How each row was measured:', '')
  for (const row of audit.rows) lines.push(`- **${row.property}**: ${row.how}.`)
  return lines.join('\n')
}

function machineLine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node}, ${m.platform}; ${m.date}; load average ${m.loadStart.toFixed(2)} at the start, ${m.loadEnd.toFixed(2)} at the end; run took ${Math.round(m.durationS)} s; tree: HEAD ${m.git.head}, repository.ts last committed in ${m.git.repositoryCommit}${m.git.coreDirty ? ' (src/core had uncommitted changes: measured as they were)' : ''}`
}

/** The README section (between the markers). */
export function readmeSection(results: BenchResults): string {
  const parts = [
    '## Benchmarks',
    '',
    '`npm run bench` (under 5 minutes on 2 cores) runs every case below on real temp folders with real fsyncs, saveflow',
    'and its peers interleaved round by round on the same data and edits, and writes `bench/results/latest.json`',
    '(median, min, max, p99 and ratio of every figure, and the machine). `npm run bench -- --quick` runs each case once',
    'on small data; `npm run bench -- --readme` also rewrites this section. Ratios are medians of per-round ratios.',
    '',
    `Measured on: ${machineLine(results.machine)}.`,
    '',
    casesTable(results.cases),
    '',
  ]
  for (const c of results.cases) {
    if (c.notes.length > 0) parts.push(`- ${c.id}: ${c.notes.join(' ')}`)
  }
  if (results.audit !== null) {
    parts.push(
      '',
      '### Durability audit (B0)',
      '',
      'Every cell was observed by running the library, not read from its documentation.',
      '',
    )
    parts.push(auditTable(results.audit))
  }
  return parts.join('\n')
}

const START = '<!-- bench:start -->'
const END = '<!-- bench:end -->'

/** Replaces the text between the markers (appending them at the end when absent). */
export async function updateReadme(path: string, section: string): Promise<void> {
  const text = await readFile(path, 'utf8')
  const block = `${START}\n${section}\n${END}`
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  const next =
    start >= 0 && end > start
      ? `${text.slice(0, start)}${block}${text.slice(end + END.length)}`
      : `${text.replace(/\n*$/, '\n')}\n${block}\n`
  await writeFile(path, next)
}

/** The console version: the table, then the audit. */
export function consoleReport(results: BenchResults): string {
  return readmeSection(results)
}
