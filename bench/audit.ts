/**
 * The durability audit (case B0): each property of each library found by running it on a real folder, never by
 * reading its documentation. The fs trace shows which files and folders were fsynced and how files were replaced;
 * the file is then damaged on disk and the library started again to see what the app gets.
 */
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { ProjectData } from 'saveflow'
import {
  AUDIT_SUBJECTS,
  errorText,
  type Loaded,
  type Running,
  SUBJECT_NAMES,
  type Subject,
} from './audit-subjects'
import type { BenchContext } from './context'
import { type FsEvent, traceFs } from './fs-trace'
import { sleep } from './stats'

/** One cell: a verdict and what was observed. `good`: the safe answer; `warn`: safe only in part (the text says how). */
export interface AuditCell {
  verdict: 'good' | 'warn' | 'bad'
  text: string
}

const good = (text: string): AuditCell => ({ verdict: 'good', text })
const warn = (text: string): AuditCell => ({ verdict: 'warn', text })
const bad = (text: string): AuditCell => ({ verdict: 'bad', text })

/** One property, one cell per library. */
export interface AuditRow {
  property: string
  how: string
  cells: Record<string, AuditCell>
}

/** The audit's results. */
export interface AuditResult {
  subjects: Array<{ id: string; name: string }>
  rows: AuditRow[]
}

function marked(base: ProjectData, n: number): ProjectData {
  const tree = base.tree.slice()
  tree[0] = { ...tree[0]!, title: `AUDIT-${n}-MARKER` }
  return { ...base, tree, version: base.version + n }
}

const isTemp = (path: string) => /\.tmp|\.\d+$|~$/.test(path)

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? dir, e.name))
}

/** Writes of the state files in a trace: a rename onto one, an append to a journal, or a write in place. */
function writesOf(events: readonly FsEvent[], files: readonly string[]) {
  const targets = new Set(files.map((f) => resolve(f)))
  return events.filter((e) => e.op !== 'fsync' && targets.has(resolve(e.path)))
}

async function startedWith(subject: Subject, dir: string): Promise<Running | { refused: string }> {
  try {
    return await subject.start(dir)
  } catch (error) {
    return { refused: errorText(error) }
  }
}

function describeLoad(loaded: Loaded, flippedMarker: string | null): AuditCell {
  switch (loaded.kind) {
    case 'data': {
      const silent = flippedMarker !== null && JSON.stringify(loaded.data).includes(flippedMarker)
      return bad(silent ? 'no: loaded the altered data silently' : 'loaded some data, silently')
    }
    case 'empty':
      return bad('no: started empty, silently')
    case 'error':
      return bad(`throws ${loaded.message}`)
    case 'recovered':
      return good(`detected: ${loaded.detail}`)
    case 'needs-user':
      return good(`detected: ${loaded.detail}; asks the user (no valid backup)`)
  }
}

/** Runs the audit; every library in its own folders under the run's root. */
export async function runAudit(ctx: BenchContext): Promise<AuditResult> {
  const base = ctx.small.sample.project
  // The stream must outlast saveflow's default maxWait (2 s) to show it; quick mode only checks that it runs.
  const streamEdits = ctx.quick ? 30 : 150
  const streamInterval = ctx.quick ? 10 : 20
  const row = (property: string, how: string): AuditRow => ({ property, how, cells: {} })
  const debounce = row(
    'debounce / maxWait',
    `${streamEdits} edits, one every ${streamInterval} ms, handed over unawaited; writes counted by the fs trace`,
  )
  const atomic = row(
    'atomic replace',
    'how the state file changed on a save: rename onto it, append to a checksummed journal, or a write in place',
  )
  const fileSync = row(
    'fsync the file',
    'fs trace: fsync of the written file (or its temp file) on every save',
  )
  const folderSync = row(
    'fsync the folder',
    'fs trace: fsync of the folder after each rename onto the state file',
  )
  const checksum = row(
    'checksum (one byte flipped)',
    'one letter of a string value changed in the file (JSON stays valid), then started again',
  )
  const torn = row(
    'damaged file (cut in half)',
    'after three saves the file is cut to half its length in place (a torn write, a bad sector), then started again',
  )
  const backups = row(
    'backups',
    'three saves of different states; files elsewhere in the folder holding an older state, and whether they are a separate copy or a hard link of the live file (which shares its damage)',
  )
  const keeps = row(
    'damaged file: kept or overwritten',
    'after the damaged-file start, one more save; are the damaged bytes still somewhere in the folder?',
  )
  const rows = [debounce, atomic, fileSync, folderSync, checksum, torn, backups, keeps]

  for (const subject of AUDIT_SUBJECTS) {
    const id = subject.id
    ctx.log(`  audit: ${id}`)

    // Saves under the trace: atomicity, fsyncs.
    {
      const dir = await ctx.dir(`audit-${id}-trace`)
      const running = await subject.start(dir)
      const traces: FsEvent[][] = []
      for (let n = 1; n <= 2; n++) {
        const { events } = await traceFs(async () => {
          running.edit(marked(base, n))
          await running.settle()
        })
        traces.push(events)
      }
      await running.close()
      const writes = traces.flatMap((t) => writesOf(t, running.files))
      const kinds = new Set(
        writes.map((e) => (e.op === 'rename' ? 'rename' : e.path.endsWith('.jsonl') ? 'append' : 'in-place')),
      )
      atomic.cells[id] = kinds.has('in-place')
        ? bad('no: writes the file in place')
        : good(
            [...kinds]
              .map((k) => (k === 'rename' ? 'temp file + rename' : 'append to a checksummed journal'))
              .join('; '),
          )
      const synced = traces.map((t) =>
        t.some((e) => e.op === 'fsync' && !e.isDirectory && resolve(e.path).startsWith(resolve(dir))),
      )
      fileSync.cells[id] = synced.every(Boolean)
        ? good('yes, every save')
        : bad(synced.some(Boolean) ? 'only some saves' : 'no')
      if (id === 'raw' && !synced.every(Boolean)) {
        throw new Error(
          'fs trace: no fsync seen from write-file-atomic with fsync: true; the trace is not installed',
        )
      }
      const renamed = traces.map((t) => ({
        t,
        renames: writesOf(t, running.files).filter((e) => e.op === 'rename'),
      }))
      const dirSynced = renamed.flatMap(({ t, renames }) =>
        renames.map((e) =>
          t.some(
            (x) =>
              x.op === 'fsync' &&
              x.isDirectory &&
              resolve(x.path) === dirname(resolve(e.path)) &&
              x.at >= e.at,
          ),
        ),
      )
      folderSync.cells[id] =
        dirSynced.length === 0
          ? bad('no (no rename: writes in place)')
          : dirSynced.every(Boolean)
            ? good('yes, after every rename')
            : bad('no')
      await ctx.drop(dir)
    }

    // A stream of edits: debounce and maxWait.
    {
      const dir = await ctx.dir(`audit-${id}-stream`)
      const running = await subject.start(dir)
      running.edit(marked(base, 0))
      await running.settle()
      const start = performance.now()
      const { events } = await traceFs(async () => {
        for (let i = 0; i < streamEdits; i++) {
          const wait = start + i * streamInterval - performance.now()
          if (wait > 0) await sleep(wait)
          running.edit(marked(base, i + 1))
        }
        await running.settle()
      })
      await running.close()
      const writes = writesOf(events, running.files)
      const streamMs = streamEdits * streamInterval
      const firstAt = writes.length > 0 ? writes[0]!.at - start : Number.NaN
      const counted = `${writes.length} ${writes.length === 1 ? 'write' : 'writes'} for ${streamEdits} edits`
      debounce.cells[id] =
        writes.length >= streamEdits
          ? bad(`no: ${counted}`)
          : writes.length > 5
            ? warn(`no debounce: ${counted} (coalesces edits made while a write is in flight)`)
            : firstAt < streamMs
              ? good(
                  `${counted}; first ${(firstAt / 1000).toFixed(1)} s into the ${streamMs / 1000} s stream (maxWait)`,
                )
              : good(
                  `${counted}, after the ${streamMs / 1000} s stream (debounce; the stream was shorter than maxWait)`,
                )
      await ctx.drop(dir)
    }

    // One byte flipped in a string value.
    {
      const dir = await ctx.dir(`audit-${id}-flip`)
      const running = await subject.start(dir)
      running.edit(marked(base, 1))
      await running.settle()
      await running.close()
      let flipped = false
      for (const file of running.files) {
        const text = await readFile(file, 'utf8').catch(() => null)
        if (text === null || !text.includes('AUDIT-1-MARKER')) continue
        await writeFile(file, text.replace('AUDIT-1-MARKER', 'AUDIT-1-MARKES'))
        flipped = true
        break
      }
      const again = await startedWith(subject, dir)
      checksum.cells[id] = !flipped
        ? bad('marker not found in the file')
        : 'refused' in again
          ? good(`detected: refuses to start (${again.refused})`)
          : describeLoad(again.loaded, 'AUDIT-1-MARKES')
      if (!('refused' in again)) await again.close()
      await ctx.drop(dir)
    }

    // Three saves, backups, then a damaged file: what the app gets, and what is kept.
    {
      const dir = await ctx.dir(`audit-${id}-torn`)
      const running = await subject.start(dir)
      for (let n = 1; n <= 3; n++) {
        running.edit(marked(base, n))
        await running.settle()
      }
      await running.close()
      const primary = running.files.find((f) => f.endsWith('.json'))!
      const primaryIno = (await stat(primary)).ino
      const olderCopies: Array<{ file: string; linked: boolean }> = []
      for (const file of await filesUnder(dir)) {
        if (running.files.includes(resolve(file)) || isTemp(file)) continue
        const text = await readFile(file, 'utf8').catch(() => '')
        if (!text.includes('AUDIT-1-MARKER') && !text.includes('AUDIT-2-MARKER')) continue
        olderCopies.push({ file, linked: (await stat(file)).ino === primaryIno })
      }
      const where = [...new Set(olderCopies.map((c) => dirname(c.file).slice(dir.length + 1)))].join(', ')
      const linked = olderCopies.filter((c) => c.linked).length
      backups.cells[id] =
        olderCopies.length === 0
          ? bad('no: only the current file')
          : linked > 0
            ? warn(
                `${olderCopies.length} older ${olderCopies.length === 1 ? 'copy' : 'copies'} (${where}), ${linked} of them a hard link of the live file: damage to the file reaches it too`,
              )
            : good(
                `yes: ${olderCopies.length} older ${olderCopies.length === 1 ? 'copy' : 'copies'} (${where})`,
              )

      const size = (await readFile(primary)).length
      await truncate(primary, Math.floor(size / 2))
      const damaged = await readFile(primary)
      const again = await startedWith(subject, dir)
      if ('refused' in again) {
        torn.cells[id] = bad(`refuses to start: ${again.refused}`)
        keeps.cells[id] = bad('left in place; the app cannot start until it is removed by hand')
      } else {
        const loaded = again.loaded
        torn.cells[id] =
          loaded.kind === 'error' && id === 'zustand'
            ? bad('hydration error (to onRehydrateStorage only); the store starts empty')
            : loaded.kind === 'needs-user' && linked > 0
              ? warn(
                  `detected: ${loaded.detail}; asks the user: the only backup was a hard link of the file, damaged with it`,
                )
              : describeLoad(loaded, null)
        again.edit(marked(base, 4))
        await again.settle()
        await again.close()
        const keptAt: string[] = []
        for (const file of await filesUnder(dir)) {
          if ((await readFile(file)).equals(damaged)) keptAt.push(file.slice(dir.length + 1))
        }
        const quarantined = keptAt.find((f) => f.includes('quarantine'))
        keeps.cells[id] =
          keptAt.length > 0
            ? good(`kept: ${quarantined ?? keptAt[0]}`)
            : bad('overwritten by the next save: the damaged bytes are gone')
      }
      await ctx.drop(dir)
    }
  }
  return { subjects: AUDIT_SUBJECTS.map((s) => ({ id: s.id, name: SUBJECT_NAMES[s.id] ?? s.name })), rows }
}
