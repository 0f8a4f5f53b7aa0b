/**
 * `npm run bench`: every case (B0 audit, B1-B7) on real temp folders, the table on stdout, the figures in
 * `bench/results/latest.json`. Flags: `--quick` (each case once, small data, a few seconds; writes to the temp folder
 * unless `--out` is given), `--out <file>`, `--readme` (rewrite the README's bench section), `--only B1,B5`.
 *
 * Run with `node --expose-gc --import tsx bench/run.ts`: `--expose-gc` for the heap readings and the collections
 * between timed runs. The fs trace is imported first, before any library under test keeps references to `fs`.
 */
import './fs-trace'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { type AuditResult, runAudit } from './audit'
import { caseB1 } from './cases/b1-small-save'
import { caseB2, withCompaction } from './cases/b2-full-save'
import { caseB3B4 } from './cases/b3-b4-incremental'
import { caseB5 } from './cases/b5-debounce'
import { caseB6 } from './cases/b6-long-run'
import { caseB7 } from './cases/b7-load'
import { createContext } from './context'
import { fsTraceReady } from './fs-trace'
import { type BenchResults, consoleReport, type MachineInfo, updateReadme } from './report'
import type { CaseResult } from './results-model'
import { createWorkload } from './workloads'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..')

interface Args {
  quick: boolean
  out: string | null
  readme: boolean
  only: Set<string> | null
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, out: null, readme: false, only: null }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--quick') args.quick = true
    else if (arg === '--readme') args.readme = true
    else if (arg === '--out') args.out = resolve(argv[++i] ?? '')
    else if (arg === '--only') args.only = new Set((argv[++i] ?? '').toUpperCase().split(','))
    else throw new Error(`unknown argument ${arg} (known: --quick, --out <file>, --readme, --only B1,B2)`)
  }
  return args
}

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return 'unknown'
  }
}

function machine(startedAt: number, loadStart: number): MachineInfo {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
    loadStart,
    loadEnd: os.loadavg()[0] ?? Number.NaN,
    tmpdir: os.tmpdir(),
    git: {
      head: git('rev-parse', '--short', 'HEAD'),
      repositoryCommit: git('log', '-1', '--format=%h', '--', 'src/core/repository.ts'),
      coreDirty: git('status', '--porcelain', '--', 'src/core') !== '',
    },
    durationS: (performance.now() - startedAt) / 1000,
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  if ((globalThis as { gc?: unknown }).gc === undefined) throw new Error('run with node --expose-gc')
  await fsTraceReady()
  const startedAt = performance.now()
  const loadStart = os.loadavg()[0] ?? Number.NaN
  const log = (message: string) =>
    process.stderr.write(`[${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`)
  const wanted = (id: string) => args.only === null || args.only.has(id)
  const root = await mkdtemp(join(os.tmpdir(), 'saveflow-bench-'))
  const small = createWorkload('small')
  const cases: CaseResult[] = []
  let audit: AuditResult | null = null
  try {
    let ctx = createContext({ quick: args.quick, root, small, large: small, log })
    if (wanted('B0')) {
      log('B0 durability audit')
      audit = await runAudit(ctx)
    }
    if (wanted('B1')) {
      log('B1 small save')
      cases.push(await caseB1(ctx))
    }
    const large = ['B2', 'B3', 'B4', 'B7'].some(wanted)
    if (large) {
      if (!args.quick) {
        log('generating the large workload')
        ctx = createContext({ quick: false, root, small, large: createWorkload('large'), log })
      }
      log('B2 full save')
      const b2 = await caseB2(ctx)
      log('B3/B4 incremental saves, B2 compactions')
      const [b3, b4, compaction] = await caseB3B4(ctx, b2.kept)
      if (wanted('B2')) cases.push(withCompaction(b2.result, compaction))
      if (wanted('B3')) cases.push(b3)
      if (wanted('B4')) cases.push(b4)
      if (wanted('B7')) {
        log('B7 load')
        cases.push(await caseB7(ctx, b2.kept))
      }
      ctx = createContext({ quick: args.quick, root, small, large: small, log })
    }
    if (wanted('B5')) {
      log('B5 debounce')
      cases.push(await caseB5(ctx))
    }
    if (wanted('B6')) {
      log('B6 save cycles')
      cases.push(await caseB6(ctx))
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
  cases.sort((a, b) => a.id.localeCompare(b.id))

  const results: BenchResults = {
    mode: args.quick ? 'quick' : 'full',
    machine: machine(startedAt, loadStart),
    cases,
    audit,
  }
  const out =
    args.out ??
    (args.quick ? join(os.tmpdir(), 'saveflow-bench-quick.json') : join(here, 'results', 'latest.json'))
  await mkdir(dirname(out), { recursive: true })
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`)
  process.stdout.write(`${consoleReport(results)}\n\nresults: ${out}\n`)
  if (args.readme) {
    await updateReadme(join(repoRoot, 'README.md'), consoleReport(results))
    log('README section updated')
  }
  log('done')
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
