import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Figure, PARTS_DIR, readParts } from './figures'

/**
 * Global setup of the reliability suite: empties the parts folder before the run; after it, merges what each part
 * recorded into `tests/reliability/results/latest.json`, prints the figures, and writes them into the README's
 * reliability section (between its markers). It runs in vitest's main process after every file finished, so the
 * figures of a failed run are printed too (and say so).
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const RESULTS = `${ROOT}tests/reliability/results/latest.json`
const README = `${ROOT}README.md`
const START = '<!-- reliability:start -->'
const END = '<!-- reliability:end -->'

type Parts = Record<string, Record<string, Figure>>

const num = (value: Figure | undefined): number => (typeof value === 'number' ? value : 0)

/** The headline figures, summed over the parts. */
function summarize(parts: Parts) {
  const crash = Object.entries(parts).filter(
    ([name]) => name.startsWith('crash-') && name !== 'crash-variants',
  )
  const crashStates = crash.reduce((n, [, p]) => n + num(p.crashStates) + num(p.crashStatesInRecovery), 0)
  const violations = Object.values(parts).reduce(
    (n, p) =>
      n +
      num(p.violations) +
      num(p.lostAcknowledgedSaves) +
      num(p.tornLoads) +
      num(p.tempFilesLeft) +
      num(p.uncaught) +
      num(p.hangs) +
      num(p.originalsLost),
    0,
  )
  const variants = parts['crash-variants'] ?? {}
  return {
    crashStates,
    kills: num(parts.kills?.kills),
    faultsInjected: num(parts['io-errors']?.faultsInjected) + num(parts.soak?.faultsInjected),
    filesFuzzed: num(parts.hostile?.filesChecked),
    violations,
    brokenVariantsCaught: `${Object.values(variants).filter((v) => typeof v === 'number' && v > 0).length}/${Object.keys(variants).filter((k) => k !== 'seconds').length}`,
  }
}

function readmeSection(summary: ReturnType<typeof summarize>, parts: Parts, at: string): string {
  const rows = Object.entries(parts).map(
    ([name, figures]) =>
      `| ${name} | ${Object.entries(figures)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} |`,
  )
  return [
    START,
    '## Reliability',
    '',
    'Proof of reliability (issue 7): `npm run test:reliability` (also part of `npm test`) checks invariants I1-I5 of',
    'DESIGN.md by crash-state exploration on the simulated disk, real SIGKILLs of a writing process, an I/O error',
    'matrix, corrupt and hostile files, and a 24-hour simulated soak. Figures of the last run',
    `(${at}, written by the suite itself):`,
    '',
    '| figure | value |',
    '|---|---|',
    `| crash states explored (distinct, with what was acknowledged) | ${summary.crashStates} |`,
    `| processes killed (SIGKILL) | ${summary.kills} |`,
    `| faults injected | ${summary.faultsInjected} |`,
    `| files fuzzed or corrupted and loaded | ${summary.filesFuzzed} |`,
    `| broken write paths caught | ${summary.brokenVariantsCaught} |`,
    `| violations | ${summary.violations} |`,
    '',
    '| part | figures |',
    '|---|---|',
    ...rows,
    END,
  ].join('\n')
}

export default function setup() {
  rmSync(PARTS_DIR, { recursive: true, force: true })
  mkdirSync(PARTS_DIR, { recursive: true })
  return () => {
    const parts = readParts()
    if (Object.keys(parts).length === 0) return
    const at = new Date().toISOString().slice(0, 16).replace('T', ' ')
    const summary = summarize(parts)
    mkdirSync(`${ROOT}tests/reliability/results`, { recursive: true })
    writeFileSync(RESULTS, `${JSON.stringify({ at, summary, parts }, null, 2)}\n`)
    const lines = [
      '',
      `reliability figures (${at} UTC)`,
      `  crash states explored: ${summary.crashStates}`,
      `  processes killed:      ${summary.kills}`,
      `  faults injected:       ${summary.faultsInjected}`,
      `  files fuzzed/loaded:   ${summary.filesFuzzed}`,
      `  broken paths caught:   ${summary.brokenVariantsCaught}`,
      `  violations:            ${summary.violations}`,
      ...Object.entries(parts).map(([name, figures]) => `  ${name}: ${JSON.stringify(figures)}`),
      '',
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
    try {
      const readme = readFileSync(README, 'utf8')
      const section = readmeSection(summary, parts, `${at} UTC`)
      const start = readme.indexOf(START)
      const end = readme.indexOf(END)
      const next =
        start >= 0 && end > start
          ? `${readme.slice(0, start)}${section}${readme.slice(end + END.length)}`
          : `${readme.trimEnd()}\n\n${section}\n`
      writeFileSync(README, next)
    } catch {
      // No README (a trimmed checkout): the figures are in results/latest.json and on stdout.
    }
  }
}
