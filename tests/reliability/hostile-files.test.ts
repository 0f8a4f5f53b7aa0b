import { mkdir, mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { QUARANTINE_DIR } from '../../src/core/paths'
import type { StorageBackend } from '../../src/core/storage'
import type { OpenResult } from '../../src/core/workspace-session'
import { openWorkspace } from '../../src/node'
import { TestClock } from '../machines/harness'
import { config, T0 } from './support/crash-workload'
import { settingsAt } from './support/documents'
import { recordFigures } from './support/figures'
import {
  type CaseReport,
  checkCase,
  envelope,
  type Fixture,
  fixture,
  HANG_MS,
  type HostileCase,
  JOURNAL,
  outcomeOf,
} from './support/hostile'
import {
  backupsOf,
  C,
  mutate,
  mutationArb,
  P,
  S,
  specialCases,
  TARGETS,
  truncations,
} from './support/hostile-cases'

/**
 * Part 4: corrupt and hostile files. Every damaged workspace is loaded through the real stack (repository, then a
 * session with its load machine and recovery, the user's next step and the next save) on the memory disk; the 1 GiB
 * sparse file goes through `openWorkspace` on a real temp folder. Promises: no uncaught or untyped exception, no load
 * over {@link HANG_MS}, no damaged bytes lost (in place or in quarantine), only saved data ever loads.
 */

const totals = {
  truncations: 0,
  bitFlips: 0,
  special: 0,
  sparse: 0,
  fuzzed: 0,
  uncaught: 0,
  hangs: 0,
  originalsLost: 0,
  violations: 0,
  slowestLoadMs: 0,
}
const began = performance.now()

afterAll(() => {
  const { truncations, bitFlips, special, sparse, fuzzed } = totals
  recordFigures('hostile', {
    filesChecked: truncations + bitFlips + special + sparse + fuzzed,
    ...totals,
    slowestLoadMs: Math.round(totals.slowestLoadMs),
    seconds: Math.round((performance.now() - began) / 100) / 10,
  })
})

/** Runs cases, adds them to the figures under `counter`; returns the violations and how the cases ended. */
async function run(
  base: Fixture,
  cases: Iterable<HostileCase>,
  counter: 'truncations' | 'bitFlips' | 'special' | 'fuzzed',
): Promise<{ violations: string[]; outcomes: Map<string, number>; count: number }> {
  const violations: string[] = []
  const outcomes = new Map<string, number>()
  let count = 0
  for (const hostile of cases) {
    const report: CaseReport = await checkCase(base, hostile)
    count++
    add(report)
    violations.push(...report.violations)
    outcomes.set(report.outcome, (outcomes.get(report.outcome) ?? 0) + 1)
  }
  totals[counter] += count
  return { violations, outcomes, count }
}

function add(report: Pick<CaseReport, 'violations' | 'uncaught' | 'hangs' | 'originalsLost' | 'slowestMs'>) {
  totals.uncaught += report.uncaught
  totals.hangs += report.hangs
  totals.originalsLost += report.originalsLost
  totals.violations += report.violations.length - report.uncaught - report.hangs - report.originalsLost
  totals.slowestLoadMs = Math.max(totals.slowestLoadMs, report.slowestMs)
}

const FUZZ_RUNS = 10_000

describe('corrupt and hostile files', () => {
  it('loads every truncation point of the settings and project snapshots as a saved version or a typed result', async () => {
    const base = await fixture()
    const found = await run(
      base,
      (function* () {
        yield* truncations(base, 'settings', S)
        yield* truncations(base, 'project', P)
      })(),
      'truncations',
    )
    expect(found.violations.slice(0, 20)).toEqual([])
    expect(found.count).toBe(base.files[S]!.length + base.files[P]!.length)
    // Recovery really ran: cut files came back from their backups.
    expect(found.outcomes.get('ready:backup')).toBeGreaterThan(found.count / 2)
  })

  it('loads every truncation point of the conversation log and the project journal', async () => {
    const base = await fixture()
    const found = await run(
      base,
      (function* () {
        yield* truncations(base, 'conversation/c1', C)
        yield* truncations(base, 'project', JOURNAL)
      })(),
      'truncations',
    )
    expect(found.violations.slice(0, 20)).toEqual([])
    expect(found.count).toBe(base.files[C]!.length + base.files[JOURNAL]!.length)
  })

  it('survives a bit flip at every byte of a 1 KB document', async () => {
    const base = await fixture()
    const original = base.files[P]!
    expect(original.length).toBeGreaterThan(1000)
    function* flips(): Generator<HostileCase> {
      for (let i = 0; i < original.length; i++) {
        // The low bit (a letter becomes its neighbour: still text, only a checksum tells) and one more per byte.
        for (const bit of new Set([0, i % 8])) {
          const bytes = original.slice()
          bytes[i]! ^= 1 << bit
          yield { label: `${P} byte ${i} bit ${bit}`, key: 'project', changes: { [P]: bytes } }
        }
      }
    }
    const found = await run(base, flips(), 'bitFlips')
    expect(found.violations.slice(0, 20)).toEqual([])
    expect(found.count).toBeGreaterThan(original.length)
  })

  it('refuses or recovers zero-length, NUL-filled, non-UTF-8, deeply nested, wrong-kind and future-version files, with backups damaged too', async () => {
    const base = await fixture()
    const cases = specialCases(base)
    const found = await run(base, cases, 'special')
    expect(found.violations.slice(0, 80)).toEqual([])
    expect(found.count).toBeGreaterThan(150)
    // Each way a load can end was reached, so each was checked.
    for (const outcome of [
      'ready:primary',
      'ready:backup',
      'ready:read-only',
      'needsUser:corrupt',
      'failed:too-large',
    ])
      expect(found.outcomes.get(outcome), outcome).toBeGreaterThan(0)
    // Nothing polluted the prototypes while hostile data was parsed.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses a 1 GiB sparse file by its size, before reading it, and never writes over it', async () => {
    const base = await fixture()
    const root = await mkdtemp(join(tmpdir(), 'saveflow-sparse-'))
    const GiB = 1024 * 1024 * 1024
    const problems: string[] = []
    const hangsBefore = totals.hangs
    const lostBefore = totals.originalsLost
    try {
      for (const [key, path] of TARGETS) {
        const dir = join(root, path.replace(/[/.]/g, '_'))
        for (const [file, bytes] of Object.entries(base.files)) {
          await mkdir(dirname(join(dir, file)), { recursive: true })
          await writeFile(join(dir, file), bytes)
        }
        await truncate(join(dir, path), GiB)
        const readBytes = new Map<string, number>()
        const wrap = (inner: StorageBackend): StorageBackend => ({
          ...inner,
          async read(file, options) {
            const bytes = await inner.read(file, options)
            readBytes.set(file, (readBytes.get(file) ?? 0) + bytes.length)
            return bytes
          },
        })
        const clock = new TestClock()
        clock.set(T0 + 86_400_000)
        const rss = process.memoryUsage().rss
        const started = performance.now()
        const ws = await openWorkspace(dir, { config, clock, now: () => clock.now(), wrapStorage: wrap })
        const opened: OpenResult =
          key === 'settings' ? ws.settings : key === 'project' ? ws.project : await ws.open(key)
        const ms = performance.now() - started
        totals.sparse++
        totals.slowestLoadMs = Math.max(totals.slowestLoadMs, ms)
        const label = `1 GiB ${path}`
        const outcome = outcomeOf(opened)
        if (key === 'cache/models') {
          // A cache that fails any check is dropped and rebuilt: it opens empty.
          if (outcome !== 'ready:empty') problems.push(`${label}: opened ${outcome}`)
        } else if (outcome !== 'failed:too-large')
          problems.push(`${label}: opened ${outcome}, not failed:too-large`)
        if (ms > HANG_MS * 2) {
          totals.hangs++
          problems.push(`${label}: the open took ${Math.round(ms)} ms`)
        }
        if ((readBytes.get(path) ?? 0) > 0)
          problems.push(`${label}: ${readBytes.get(path)} bytes of it were read`)
        if (process.memoryUsage().rss - rss > 512 * 1024 * 1024)
          problems.push(`${label}: memory grew by the file`)
        // An edit must not be written over a file that was never read.
        ws.session.change(key, (opened.status === 'ready' ? opened.data : null) as never)
        let closed = false
        const closing = ws.close({ deadlineMs: 1000 }).finally(() => {
          closed = true
        })
        for (let i = 0; i < 40 && !closed; i++) await clock.advance(250)
        await closing
        if (key !== 'cache/models') {
          const size = (await stat(join(dir, path))).size
          if (size !== GiB) {
            totals.originalsLost++
            problems.push(`${label}: the file is ${size} bytes now`)
          }
        }
      }
    } finally {
      await rm(root, { recursive: true, force: true })
    }
    totals.violations += problems.length - (totals.hangs - hangsBefore) - (totals.originalsLost - lostBefore)
    expect(problems).toEqual([])
    expect(totals.sparse).toBe(TARGETS.length)
  })

  it(`keeps every promise over ${FUZZ_RUNS.toLocaleString('en')} fuzzed mutations (fast-check)`, async () => {
    const base = await fixture()
    const sample = fc.sample(
      fc.record({
        target: fc.constantFrom(...TARGETS),
        mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        backups: fc.constantFrom('keep', 'keep', 'keep', 'newest', 'all'),
      }),
      { numRuns: FUZZ_RUNS, seed: 20_261_204 },
    )
    function* cases(): Generator<HostileCase> {
      for (const [n, { target, mutations, backups }] of sample.entries()) {
        const [key, path] = target
        const apply = (bytes: Uint8Array) => mutations.reduce(mutate, bytes)
        const changes: Record<string, Uint8Array> = { [path]: apply(base.files[path]!) }
        const list = backupsOf(base, key)
        for (const backup of backups === 'all' ? list : backups === 'newest' ? list.slice(-1) : [])
          changes[backup] = apply(base.files[backup]!)
        yield {
          label: `fuzz #${n} ${path} ${backups} ${JSON.stringify(mutations)}`,
          key,
          changes,
          ...(key.startsWith('cache/') ? { allowEmpty: true } : {}),
        }
      }
    }
    const found = await run(base, cases(), 'fuzzed')
    expect(found.violations.slice(0, 20)).toEqual([])
    expect(found.count).toBe(FUZZ_RUNS)
    expect(found.outcomes.size).toBeGreaterThan(3)
  })

  it('can fail: a quarantine that deletes, a load that throws, one that stalls and one that lies are all caught', async () => {
    const base = await fixture()
    const hostile: HostileCase = {
      label: 'cut settings',
      key: 'settings',
      changes: { [S]: base.files[S]!.slice(0, 99) },
    }
    const deleting = await checkCase(base, hostile, {
      wrap: (inner) => ({
        ...inner,
        rename: (from, to) => (to.startsWith(QUARANTINE_DIR) ? inner.remove(from) : inner.rename(from, to)),
        linkOrCopy: async (from, to) => (to.startsWith(QUARANTINE_DIR) ? 'copy' : inner.linkOrCopy(from, to)),
      }),
    })
    expect(deleting.originalsLost).toBe(1)
    const throwing = await checkCase(base, hostile, {
      wrap: (inner) => ({
        ...inner,
        read: () => Promise.reject(new TypeError('a bug')),
      }),
    })
    expect(throwing.uncaught).toBeGreaterThan(0)
    let stalled = 0
    const stalling = await checkCase(base, hostile, {
      wrap: (inner) => {
        let first = true
        return {
          ...inner,
          async read(path, options) {
            if (path === S && first) {
              first = false
              stalled++
              await new Promise((resolve) => setTimeout(resolve, HANG_MS + 200))
            }
            return inner.read(path, options)
          },
        }
      },
    })
    expect(stalling.hangs).toBe(1)
    expect(stalled).toBe(4)
    // A reader that passes off other data as the file (a checksum it does not check) is caught by I1.
    const forged = envelope({ kind: 'settings', schemaVersion: 2 }, JSON.stringify(settingsAt(77)))
    const lying = await checkCase(base, hostile, {
      wrap: (inner) => ({
        ...inner,
        read: (path, options) => (path === S ? Promise.resolve(forged) : inner.read(path, options)),
      }),
    })
    expect(lying.violations.filter((text) => text.includes('I1')).length).toBeGreaterThan(0)
  })
})
