import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BenchResults } from '../../bench/report'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')

// The harness runs as `npm run bench` does (its own process: --expose-gc, and the fs trace installed before any
// library loads), in --quick mode. Timings on a CI machine mean nothing: only the shape of the results is checked.
describe('npm run bench -- --quick', () => {
  let dir: string
  let results: BenchResults

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-test-'))
    const out = join(dir, 'quick.json')
    await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], {
      cwd: root,
      timeout: 150_000,
      maxBuffer: 16 * 1024 * 1024,
    })
    results = JSON.parse(await readFile(out, 'utf8')) as BenchResults
  }, 180_000)

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('produces every case', () => {
    expect(results.mode).toBe('quick')
    expect(results.cases.map((c) => c.id)).toEqual(['B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7'])
  })

  it('gives every figure finite numbers', () => {
    for (const c of results.cases) {
      expect(c.figures.length, c.id).toBeGreaterThan(0)
      expect(c.checks.length, c.id).toBeGreaterThan(0)
      for (const f of c.figures) {
        const name = `${c.id} ${f.who} ${f.metric}`
        for (const value of [f.median, f.min, f.max, f.p99]) expect(Number.isFinite(value), name).toBe(true)
        expect(f.samples, name).toBeGreaterThan(0)
        if (f.ratio !== null) expect(Number.isFinite(f.ratio), name).toBe(true)
      }
    }
  })

  it('fills every cell of the durability audit', () => {
    const audit = results.audit!
    expect(audit.subjects.map((s) => s.id)).toEqual(['saveflow', 'raw', 'conf', 'lowdb', 'zustand'])
    expect(audit.rows.length).toBeGreaterThanOrEqual(8)
    for (const row of audit.rows) {
      for (const subject of audit.subjects) {
        expect(row.cells[subject.id]?.text, `${row.property} / ${subject.id}`).toBeTruthy()
      }
    }
  })

  it('records the machine', () => {
    const m = results.machine
    expect(m.cores).toBeGreaterThan(0)
    expect(m.node).toBe(process.version)
    expect(Number.isNaN(Date.parse(m.date))).toBe(false)
  })
})
