import { crc32 } from '../../../src/core/checksum'
import { ERROR_TEXT, isSaveflowError, type SaveflowErrorData } from '../../../src/core/errors'
import { BACKUPS_DIR, QUARANTINE_DIR } from '../../../src/core/paths'
import { createRepository } from '../../../src/core/repository'
import type { StorageBackend } from '../../../src/core/storage'
import { createWorkspaceSession, type OpenResult } from '../../../src/core/workspace-session'
import { createMemoryStorage } from '../../../src/testing'
import { concat } from '../../core/support/bytes'
import { TestClock } from '../../machines/harness'
import { config, T0 } from './crash-workload'
import { conversationAt, projectAt, sameData, settingsAt } from './documents'

/**
 * Part 4 (corrupt and hostile files): a fixture workspace built through the repository, and the check that loads a
 * damaged copy of it through the real stack and judges the outcome:
 * - the repository's `load` never throws and returns a typed result; a failure is a `SaveflowError` with a known
 *   code, and never an internal exception dressed as `io` (the memory disk raises no I/O error, so an `io` without
 *   a system code is something that threw where it should have returned);
 * - the session's `open` (load machine, recovery, quarantine) settles as ready, needsUser or failed with a typed
 *   code, and within the hang limit;
 * - whatever loads is data that was saved (I1), never what a damaged file made up;
 * - after the user's next step (start empty when nothing valid is left) and the next save, the damaged bytes still
 *   exist somewhere, in place or in `.saveflow/quarantine/` (durability rule 5), the save reads back (I4) and no
 *   temp file is left.
 */

/** The documents of the fixture. */
export const HOSTILE_KEYS = ['project', 'settings', 'conversation/c1', 'cache/models'] as const
export type HostileKey = (typeof HOSTILE_KEYS)[number]

/** The file each key loads first, and the key each file belongs to. */
export const PRIMARY: Readonly<Record<HostileKey, string>> = {
  project: 'project.json',
  settings: 'settings.json',
  'conversation/c1': 'conversations/c1.jsonl',
  'cache/models': 'cache/models.json',
}
export const JOURNAL = 'project.journal.jsonl'

/** The workspace every case damages a copy of, and every version of each document that was saved into it. */
export interface Fixture {
  files: Readonly<Record<string, Uint8Array>>
  versions: Readonly<Record<HostileKey, readonly unknown[]>>
}

export const cacheAt = (n: number) => ({ models: ['small', 'large'], fetched: n })

let built: Fixture | null = null

/** Builds the fixture once: three project saves (snapshot, journal, backups), two of the settings, three of the chat. */
export async function fixture(): Promise<Fixture> {
  if (built !== null) return built
  let now = T0 - 3_600_000
  const storage = createMemoryStorage({ now: () => now, record: false })
  const repo = createRepository({ storage, now: () => now, config })
  const versions: Record<HostileKey, unknown[]> = {
    project: [],
    settings: [],
    'conversation/c1': [],
    'cache/models': [],
  }
  const save = async (key: HostileKey, data: unknown) => {
    versions[key].push(data)
    await repo.save(key, data, versions[key].length)
    now += 1000
  }
  for (let n = 1; n <= 3; n++) await save('project', projectAt(n))
  await save('settings', settingsAt(1))
  await save('settings', settingsAt(2))
  await save('conversation/c1', conversationAt(0))
  await save('conversation/c1', conversationAt(1))
  await save('conversation/c1', conversationAt(1, 1))
  await save('cache/models', cacheAt(1))
  built = { files: storage.files(), versions }
  return built
}

/** The data of the next save after a case loaded, per key. */
export const NEXT: Readonly<Record<HostileKey, unknown>> = {
  project: projectAt(999),
  settings: settingsAt(59),
  'conversation/c1': conversationAt(9, 9),
  'cache/models': cacheAt(999),
}

/** One damaged workspace: the fixture with some files replaced (or added), and the document to open. */
export interface HostileCase {
  label: string
  key: HostileKey
  /** Files to replace or add; `null` removes the fixture's file. */
  changes: Readonly<Record<string, Uint8Array | null>>
  /** The data may legitimately load as a fresh document (a cache is dropped when it fails any check). */
  allowEmpty?: boolean
  /**
   * The files are well formed (lengths and checksums right), written by hand as a newer app or an attacker could:
   * whatever passes every check may load, so the data is not compared with the saved versions.
   */
  crafted?: boolean
  /** The next save may fail, with a typed error (a folder where the file should be cannot be replaced). */
  saveMayFail?: boolean
}

/** What one case found. */
export interface CaseReport {
  violations: string[]
  uncaught: number
  hangs: number
  originalsLost: number
  /** A short name of how it ended: `ready:primary`, `needsUser:corrupt`, `failed:too-large`, ... */
  outcome: string
  /** The slowest load of the case, in wall-clock ms. */
  slowestMs: number
}

/** A load slower than this (wall clock) is a hang; every load here takes milliseconds. */
export const HANG_MS = 1000
/** A load not settled after this long is given up on (and counts as a hang). */
const GIVE_UP_MS = 15_000

/** Runs `promise`, measuring it; `hung` when it did not settle within {@link GIVE_UP_MS}. */
async function timed<T>(
  promise: () => Promise<T>,
): Promise<{ ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number } | { hung: true }> {
  const started = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const giveUp = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), GIVE_UP_MS)
  })
  try {
    const run = promise().then(
      (value) => ({ ok: true as const, value, ms: performance.now() - started }),
      (error: unknown) => ({ ok: false as const, error, ms: performance.now() - started }),
    )
    const result = await Promise.race([run, giveUp])
    return result === 'hung' ? { hung: true } : result
  } finally {
    clearTimeout(timer)
  }
}

/** Waits for `promise` while the simulated clock runs (retries, debounce and flush deadlines live on it). */
async function driven<T>(promise: Promise<T>, clock: TestClock, budgetMs: number): Promise<T | 'pending'> {
  let done: { value: T } | null = null
  let failed: { error: unknown } | null = null
  promise.then(
    (value) => {
      done = { value }
    },
    (error: unknown) => {
      failed = { error }
    },
  )
  await Promise.resolve()
  for (let spent = 0; done === null && failed === null && spent < budgetMs; spent += 250) {
    await clock.advance(250)
  }
  if (failed !== null) throw (failed as { error: unknown }).error
  return done === null ? 'pending' : (done as { value: T }).value
}

/** The fixture with `changes` applied. */
export function filesOf(base: Fixture, changes: HostileCase['changes']): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = { ...base.files }
  for (const [path, bytes] of Object.entries(changes)) {
    if (bytes === null) delete files[path]
    else files[path] = bytes
  }
  return files
}

/** Problems of an error as a caller sees it: an unknown code, or an internal exception passed off as `io`. */
function untyped(error: unknown, where: string): string | null {
  if (isSaveflowError(error)) {
    if (!(error.code in ERROR_TEXT)) return `${where}: unknown code ${error.code}`
    if (error.code === 'io' && error.sysCode === undefined) {
      const cause = error.cause
      return `${where}: an internal exception surfaced as io (${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)})`
    }
    return null
  }
  const data = error as Partial<SaveflowErrorData> | null
  if (typeof data === 'object' && data !== null && typeof data.code === 'string' && data.code in ERROR_TEXT) {
    if (data.code === 'io' && data.sysCode === undefined)
      return `${where}: an internal exception surfaced as io (${data.message})`
    return null
  }
  return `${where}: untyped ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`
}

/**
 * Loads one damaged workspace through the repository and through a session, takes the user's next step and saves,
 * then checks the promises listed at the top of this file. A case whose slowest load passed {@link HANG_MS} is run
 * again, and counts as a hang only when it is slow again (a loaded machine can stall one load, not two in a row).
 */
export async function checkCase(
  base: Fixture,
  hostile: HostileCase,
  options: CheckOptions = {},
): Promise<CaseReport> {
  const first = await runCase(base, hostile, options)
  if (first.slowestMs <= HANG_MS && first.hangs === 0) return first
  const second = await runCase(base, hostile, options)
  if (second.slowestMs <= HANG_MS && second.hangs === 0) return second
  return {
    ...second,
    hangs: Math.max(1, second.hangs),
    violations: [
      ...second.violations,
      `${hostile.label}: a load took ${Math.round(second.slowestMs)} ms (limit ${HANG_MS} ms), twice`,
    ],
  }
}

/** Options of {@link checkCase}. */
export interface CheckOptions {
  /** Wraps each disk the case loads from: a broken stack, to prove the checks can fail. */
  wrap?: (storage: StorageBackend) => StorageBackend
}

async function runCase(base: Fixture, hostile: HostileCase, options: CheckOptions): Promise<CaseReport> {
  const wrap = options.wrap ?? ((storage: StorageBackend) => storage)
  const { key, label } = hostile
  const files = filesOf(base, hostile.changes)
  const report: CaseReport = {
    violations: [],
    uncaught: 0,
    hangs: 0,
    originalsLost: 0,
    outcome: '',
    slowestMs: 0,
  }
  const violation = (text: string) => report.violations.push(`${label}: ${text}`)
  const uncaught = (text: string) => {
    report.uncaught++
    violation(text)
  }
  /**
   * Rule 5 over `now`: after the load and its recovery every damaged file is still there (backups included: recovery
   * only reads them); after the next save every damaged document file is (backups rotate by design). Caches are
   * rebuildable and dropped when damaged (DESIGN.md "Documents"), so they are left out.
   */
  const reported = new Set<string>()
  const lost = (now: Readonly<Record<string, Uint8Array>>, withBackups: boolean) => {
    if (key.startsWith('cache/')) return
    for (const [path, bytes] of Object.entries(hostile.changes)) {
      if (bytes === null || equalBytes(bytes, base.files[path]) || reported.has(path)) continue
      if (!withBackups && path.startsWith(BACKUPS_DIR)) continue
      if (preserved(path, bytes, now)) continue
      reported.add(path)
      report.originalsLost++
      violation(
        `rule 5: the damaged ${path} (${bytes.length} bytes) is gone ${withBackups ? 'after the load' : 'after the next save'}`,
      )
    }
  }
  const versions = base.versions[key]
  const savedBefore = (data: unknown) => versions.some((version) => sameData(version, data))

  // 1. The repository alone: a load never throws, and a failure is typed.
  const clock = new TestClock()
  clock.set(T0 + 86_400_000)
  const now = () => clock.now()
  const direct = await timed(() =>
    createRepository({ storage: wrap(createMemoryStorage({ files, now, record: false })), now, config }).load(
      key,
    ),
  )
  if ('hung' in direct) {
    report.hangs++
    violation('the repository load never settled')
  } else {
    report.slowestMs = Math.max(report.slowestMs, direct.ms)
    if (!direct.ok) uncaught(`the repository load threw: ${untyped(direct.error, 'load') ?? 'a typed error'}`)
    else if (direct.value.ok) {
      if (!hostile.crafted && !savedBefore(direct.value.data))
        violation('I1: the repository loaded data that was never saved')
    } else {
      const problem = untyped(direct.value.error, 'repository load')
      if (problem !== null) uncaught(problem)
    }
  }

  // 2. The session, as an app opens a workspace: temp cleanup, then the load machine with its recovery.
  const storage = createMemoryStorage({ files, now, record: false })
  const repo = createRepository({ storage: wrap(storage), now, config })
  const session = createWorkspaceSession({ repository: repo, config, clock })
  const cleaned = await timed(() => repo.removeTempFiles())
  if (!('hung' in cleaned) && !cleaned.ok) uncaught(`removeTempFiles threw: ${String(cleaned.error)}`)
  const opened = await timed(() => session.open(key))
  let result: OpenResult | null = null
  if ('hung' in opened) {
    report.hangs++
    violation('the session open never settled')
  } else {
    report.slowestMs = Math.max(report.slowestMs, opened.ms)
    if (!opened.ok) uncaught(`open rejected: ${untyped(opened.error, 'open') ?? 'a typed error'}`)
    else result = opened.value
  }

  let saved = false
  let readOnly = false
  if (result !== null) {
    report.outcome = outcomeOf(result)
    for (const problem of problemsOf(result)) uncaught(problem)
    if (result.status === 'needsUser') {
      // Nothing valid was left: the user starts empty, which must not destroy what the damaged files held.
      const next = await timed(() => (result as { startEmpty(): Promise<OpenResult> }).startEmpty())
      if ('hung' in next) {
        report.hangs++
        violation('startEmpty never settled')
        result = null
      } else if (!next.ok) {
        uncaught(`startEmpty rejected: ${String(next.error)}`)
        result = null
      } else {
        report.slowestMs = Math.max(report.slowestMs, next.ms)
        result = next.value
        for (const problem of problemsOf(result)) uncaught(problem)
        if (result.status !== 'ready') violation(`startEmpty ended ${outcomeOf(result)}`)
      }
    }
    if (result?.status === 'ready') {
      readOnly = result.readOnly !== null
      const fresh = result.source === 'empty'
      // Read-only (a file from a newer app this one cannot even decode) may show empty data: it never saves it.
      if (fresh && !readOnly && !hostile.allowEmpty && report.outcome.startsWith('ready'))
        violation('opened empty without asking, although the document had been saved')
      if (!fresh && !readOnly && !hostile.crafted && !savedBefore(result.data))
        violation(`I1: opened (${result.source}) data that was never saved`)
      lost(storage.files(), true)
      session.change(key, NEXT[key] as never)
      const flushed = await driven(session.flush(key), clock, 20_000).catch((error: unknown) => {
        uncaught(`flush rejected: ${untyped(error, 'flush') ?? 'a typed error'}`)
        return null
      })
      saved = flushed !== null && flushed !== 'pending' && flushed.result === 'saved'
      if (
        !readOnly &&
        !saved &&
        !(hostile.saveMayFail && flushed !== 'pending' && flushed?.error !== undefined)
      )
        violation(
          `I4: the next save did not succeed (${flushed === 'pending' ? 'pending' : (flushed?.error?.code ?? flushed?.result)})`,
        )
      if (readOnly && saved) violation('a file from a newer version was saved over')
    } else if (result !== null) {
      lost(storage.files(), true)
      // Failed: the edit stays in memory; nothing may be written while the file is unreadable.
      session.change(key, NEXT[key] as never)
    }
  }
  const closed = await driven(session.close({ deadlineMs: 2000 }), clock, 10_000).catch((error: unknown) => {
    uncaught(`close rejected: ${untyped(error, 'close') ?? 'a typed error'}`)
    return null
  })
  if (closed === 'pending') {
    report.hangs++
    violation('the session never closed')
  }

  // 3. What is on disk now.
  const after = storage.files()
  const temps = await storage.listTempFiles()
  if (temps.length > 0) violation(`I4: temp files left: ${temps.join(', ')}`)
  if (saved) {
    const back = await createRepository({ storage, now, config }).load(key)
    if (!back.ok || !sameData(back.data, NEXT[key])) violation('I4: the next save does not read back')
  }
  lost(after, false)
  if (readOnly) {
    const primary = PRIMARY[key]
    const original = files[primary]
    if (original !== undefined && !equalBytes(after[primary], original))
      violation('a file from a newer version was changed')
  }
  return report
}

/** `ready:primary`, `ready:backup`, `ready:read-only`, `needsUser:<code>`, `failed:<code>`. */
export function outcomeOf(result: OpenResult): string {
  if (result.status === 'ready') return `ready:${result.readOnly !== null ? 'read-only' : result.source}`
  if (result.status === 'needsUser') return `needsUser:${result.recovery.problem.code}`
  return `failed:${result.error.code}`
}

/** Every error an open result carries, checked for a known code and for an internal exception passed off as `io`. */
function problemsOf(result: OpenResult): string[] {
  const errors: [string, Pick<SaveflowErrorData, 'code'> & Partial<SaveflowErrorData>][] = []
  if (result.status === 'failed') errors.push(['failed load', result.error])
  const recovery = result.recovery
  if (recovery !== null) {
    errors.push(['recovery problem', recovery.problem])
    for (const tried of recovery.triedBackups) {
      if (tried.rejectedFor !== null) errors.push([`backup ${tried.backup.id}`, tried.rejectedFor])
    }
  }
  return errors.map(([where, error]) => untyped(error, where)).filter((p): p is string => p !== null)
}

/**
 * The bytes of a damaged file still exist: as a file (in place, moved or copied to quarantine), or, for a record
 * file, as what a writer may rightly make of it: appended to when it ended with a whole line, or its torn tail cut
 * off after a copy of that tail went to quarantine. An empty file holds nothing to lose.
 */
export function preserved(path: string, original: Uint8Array, now: Readonly<Record<string, Uint8Array>>) {
  if (original.length === 0) return true
  const files = Object.entries(now)
  if (files.some(([, bytes]) => equalBytes(bytes, original))) return true
  if (!path.endsWith('.jsonl')) return false
  const current = now[path]
  if (current === undefined) return false
  if (original[original.length - 1] === 0x0a && startsWith(current, original)) return true
  for (const [other, tail] of files) {
    if (!other.startsWith(`${QUARANTINE_DIR}/`) || tail.length === 0 || tail.length > original.length)
      continue
    const cut = original.length - tail.length
    if (startsWith(original.subarray(cut), tail) && startsWith(current, original.subarray(0, cut)))
      return true
  }
  return false
}

export function equalBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function startsWith(bytes: Uint8Array, part: Uint8Array): boolean {
  if (part.length > bytes.length) return false
  for (let i = 0; i < part.length; i++) if (bytes[i] !== part[i]) return false
  return true
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const bytesOf = (text: string): Uint8Array => encoder.encode(text)
export const textOf = (bytes: Uint8Array): string => decoder.decode(bytes)

/**
 * A snapshot envelope around raw data text, with a correct checksum: what a newer app (or an attacker who knows the
 * format) could write. The data text is used as is, so it may be nested deeper than `JSON.stringify` could go.
 */
export function envelope(
  fields: { kind: string; schemaVersion: number; revision?: number; format?: number },
  dataText: string,
): Uint8Array {
  const crc = crc32(encoder.encode(dataText)).toString(16).padStart(8, '0')
  return encoder.encode(
    `{"format":${fields.format ?? 1},"kind":${JSON.stringify(fields.kind)},"schemaVersion":${fields.schemaVersion},"revision":${fields.revision ?? 7},"savedAt":"2026-01-15T09:30:00.000Z","checksum":"crc32:${crc}","data":${dataText}}\n`,
  )
}

/** One record line with a correct length and checksum around raw record text. */
export function recordLine(recText: string): Uint8Array {
  const body = encoder.encode(recText)
  const crc = crc32(body).toString(16).padStart(8, '0')
  return concat(encoder.encode(`{"len":${body.length},"crc":"${crc}","rec":`), body, encoder.encode('}\n'))
}
