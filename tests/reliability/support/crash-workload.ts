import { crc32 } from '../../../src/core/checksum'
import { baseName, isTempFileName } from '../../../src/core/paths'
import { createRepository } from '../../../src/core/repository'
import type { Repository } from '../../../src/core/repository-types'
import type { StorageBackend } from '../../../src/core/storage'
import { createWorkspaceSession, type WorkspaceSession } from '../../../src/core/workspace-session'
import { createMemoryStorage } from '../../../src/testing'
import {
  type BrokenRule,
  createRecordingStorage,
  type RecordingStorage,
} from '../../../src/testing/crash-states'
import { TestClock } from '../../machines/harness'
import { conversationAt, KEYS, type Key, projectAt, sameData, settingsAt } from './documents'

/**
 * Workloads for the crash explorer: a starting disk, a short sequence of user operations driven through the real
 * session (coordinator, load machine, repository) on a recording memory disk, and the record of what was
 * acknowledged when. Then the checker: reopen a crash state the way `openWorkspace` does (temp cleanup, every
 * document through the load machine with recovery) and test I1-I4 against what was acknowledged before the cut.
 */

export const T0 = Date.parse('2026-01-15T10:00:00.000Z')
export const config = {
  saveDebounce: 100,
  maxWait: 1000,
  backupInterval: 0,
  backupCount: 2,
  retry: { maxAttempts: 2, delay: 10, maxDelay: 20 },
}

/** The operations a workload is made of. */
export type OpName =
  | 'saveProject'
  | 'saveSettings'
  | 'appendMessages'
  | 'editMessage'
  | 'rotateBackups'
  | 'restore'
  | 'reopen'
  | 'compact'

/** The disks a workload starts from. */
export type Start = 'absent' | 'valid' | 'corrupt'

/** What the checker compares a reopened disk with. */
export interface Expectation {
  /** Every version of each document that was ever on its way to disk, in order. */
  versions: Record<Key, unknown[]>
  /** Index in `versions` of the newest acknowledged version, per key (-1: none, an empty document may load). */
  acked: Record<Key, number>
  /** Bytes of damaged files the workload started with: recovery must keep them (rule 5). */
  damaged: Uint8Array[]
}

/** One acknowledgement: after `at` steps of the log, version `index` of `key` was durable. */
interface Ack {
  at: number
  key: Key
  index: number
}

/** A workload that ran: its recorded disk and how to know what was acknowledged at each step. */
export interface RanWorkload {
  storage: RecordingStorage
  expectationAt(n: number): Expectation
  /** Operations that did something (a restore without backups does nothing). */
  effective: number
  /** How many operations had started by step `n` (their steps may be in the state): for sharing prefixes. */
  opsStartedBefore(n: number): number
}

/** Options shared by the runner and the checker. */
export interface DiskOptions {
  broken?: BrokenRule
  /** Wraps the disk the repository sees (a codec variant that ignores checksums). */
  wrap?: (storage: StorageBackend) => StorageBackend
}

const starts = new Map<
  Start,
  {
    files: Record<string, Uint8Array>
    versions: Record<Key, unknown[]>
    acked: Record<Key, number>
    damaged: Uint8Array[]
  }
>()

/** The files and expectations of a starting disk (built once through the repository, then reused). */
export async function startOf(start: Start) {
  const cached = starts.get(start)
  if (cached !== undefined) return cached
  const versions: Record<Key, unknown[]> = { project: [], settings: [], 'conversation/c1': [] }
  const acked: Record<Key, number> = { project: -1, settings: -1, 'conversation/c1': -1 }
  const damaged: Uint8Array[] = []
  let files: Record<string, Uint8Array> = {}
  if (start !== 'absent') {
    let now = T0 - 3_600_000
    const storage = createMemoryStorage({ now: () => now })
    const repo = createRepository({ storage, now: () => now, config })
    const save = async (key: Key, data: unknown) => {
      versions[key].push(data)
      await repo.save(key, data, versions[key].length)
      acked[key] = versions[key].length - 1
      now += 1000
    }
    for (let n = 1; n <= 3; n++) await save('project', projectAt(n))
    await save('settings', settingsAt(1))
    await save('conversation/c1', conversationAt(0))
    await save('conversation/c1', conversationAt(1))
    files = storage.files()
    if (start === 'corrupt') {
      // The newest save was damaged later (a bad sector): recovery must come back with the newest backup, revision 2.
      const bad = files['project.json']!.slice(0, Math.floor(files['project.json']!.length / 2))
      files['project.json'] = bad
      damaged.push(bad)
      versions.project.pop()
      acked.project = versions.project.length - 1
    }
  }
  const built = { files, versions, acked, damaged }
  starts.set(start, built)
  return built
}

/** A session over `storage` as `openWorkspace` builds it, on a simulated clock. */
export function sessionOn(storage: StorageBackend, clock: TestClock) {
  const repo = createRepository({ storage, now: () => clock.now(), config })
  const session = createWorkspaceSession({ repository: repo, config, clock })
  return { repo, session }
}

/** Runs `ops` from `start`, driving the session; returns the recorded disk and the acknowledgements. */
export async function runWorkload(
  start: Start,
  ops: readonly OpName[],
  options: DiskOptions = {},
): Promise<RanWorkload> {
  const base = await startOf(start)
  const clock = new TestClock()
  clock.set(T0)
  const storage = createRecordingStorage({
    files: base.files,
    now: () => clock.now(),
    ...(options.broken === undefined ? {} : { broken: options.broken }),
  })
  const disk = options.wrap?.(storage) ?? storage
  const versions: Record<Key, unknown[]> = {
    project: [...base.versions.project],
    settings: [...base.versions.settings],
    'conversation/c1': [...base.versions['conversation/c1']],
  }
  const acks: Ack[] = []
  let effective = 0
  let appended = 1
  let edits = 0
  let projectN = 10
  let settingsN = 10

  let repo: Repository
  let session: WorkspaceSession
  const open = async () => {
    ;({ repo, session } = sessionOn(disk, clock))
    await repo.removeTempFiles()
    await Promise.all(KEYS.map((key) => session.open(key)))
  }
  const save = async (key: Key, data: unknown) => {
    versions[key].push(data)
    session.change(key, data as never)
    const outcome = await session.flush(key)
    if (outcome.result === 'saved')
      acks.push({ at: storage.steps.length, key, index: versions[key].length - 1 })
    effective++
  }

  const opStarts: number[] = []
  await open()
  for (const op of ops) {
    await clock.advance(1000)
    opStarts.push(storage.steps.length)
    switch (op) {
      case 'saveProject':
        await save('project', projectAt(projectN++))
        break
      case 'saveSettings':
        await save('settings', settingsAt(settingsN++))
        break
      case 'appendMessages':
        appended += 2
        await save('conversation/c1', conversationAt(appended, edits))
        break
      case 'editMessage':
        edits++
        await save('conversation/c1', conversationAt(appended, edits))
        break
      case 'rotateBackups':
        if ((await repo!.backupNow('project').catch(() => null)) !== null) effective++
        break
      case 'restore': {
        const [newest] = await session!.listBackups('project')
        if (newest === undefined) break
        const read = await session!.readBackup('project', newest.id)
        if (!read.ok) break
        versions.project.push(read.data)
        await session!.restoreBackup('project', newest.id)
        acks.push({ at: storage.steps.length, key: 'project', index: versions.project.length - 1 })
        effective++
        break
      }
      case 'reopen':
        await session!.close()
        await open()
        effective++
        break
      case 'compact':
        // Idle-time compaction of both journaled documents: the data stays the same version.
        await repo!.compact('conversation/c1')
        await repo!.compact('project')
        effective++
        break
    }
  }
  await session!.close()

  return {
    storage,
    effective,
    opsStartedBefore: (n) => opStarts.filter((at) => at < n).length,
    expectationAt(n: number): Expectation {
      const acked = { ...base.acked }
      for (const ack of acks) if (ack.at <= n) acked[ack.key] = ack.index
      return { versions, acked, damaged: base.damaged }
    },
  }
}

/** What one reopen found. */
export interface Reopened {
  violations: string[]
  /** The disk after the reopen (null when nothing ran), and how many of its steps were recovery (before the check's own save). */
  storage: RecordingStorage | null
  recoverySteps: number
}

/**
 * What one document's files loaded as, through the primary load and its next save (I4): a pure function of those
 * files, so a run remembers it by their hash and a state whose files of that document were already reopened only
 * compares. Only clean outcomes are remembered (loaded, next save read back); anything else is always recomputed.
 */
export type LoadMemo = Map<string, { data: unknown; firstRun: boolean }>

/**
 * Reopens `files` as `openWorkspace` would and checks I1-I4 against `expected`:
 * - I1: every document loads data that was saved (a version of it, checksum-verified by the load), or a typed
 *   result that is allowed only when nothing was acknowledged; every backup reads back as a saved version;
 * - I2: what loads is the acknowledged version or a newer one;
 * - I3: a journaled document loads as one of its saved versions, so no acknowledged record is missing or out of
 *   place, and nothing past a gap is applied;
 * - I4: no temp file is left after the open, and the next save of each document succeeds and reads back;
 * - rule 5: damaged bytes the workload started with are still on disk (in place or in quarantine).
 *
 * The load path: temp cleanup, then the repository's `load` of each primary, which is the load machine's first
 * step. When every primary loads (or is a first run), the machine has nothing left to decide and its result is that
 * load's, so the check takes it directly. When any primary does not load, or `full` is set (a sample of the states,
 * to keep both paths honest), the documents open through a real session: load machine, recovery, coordinator.
 */
export async function reopenAndCheck(
  files: Record<string, Uint8Array>,
  expected: Expectation,
  options: DiskOptions & { full?: boolean; memo?: LoadMemo } = {},
): Promise<Reopened | null> {
  const violations: string[] = []
  const memo = options.full === true ? undefined : options.memo
  const hasTemps = Object.keys(files).some((path) => isTempFileName(baseName(path)))
  const docKeys = new Map(KEYS.map((key) => [key, documentFilesKey(key, files)]))
  if (memo !== undefined && !hasTemps && KEYS.every((key) => memo.has(docKeys.get(key)!))) {
    // Every document's files were reopened before, with a clean outcome: compare only. No recovery ran, so there
    // is nothing to crash into either.
    for (const key of KEYS) checkLoaded(key, memo.get(docKeys.get(key)!)!, expected, violations)
    return violations.length === 0 ? null : { violations, storage: null, recoverySteps: 0 }
  }

  const clock = new TestClock()
  clock.set(T0 + 86_400_000)
  const storage = createRecordingStorage({ files, now: () => clock.now() })
  const disk = options.wrap?.(storage) ?? storage
  const repo = createRepository({ storage: disk, now: () => clock.now(), config })
  await repo.removeTempFiles()
  const known = (key: Key) => (hasTemps || memo === undefined ? undefined : memo.get(docKeys.get(key)!))
  const primaries = await Promise.all(
    KEYS.map((key) => (known(key) === undefined ? repo.load(key) : Promise.resolve(null))),
  )
  // A missing file without backups is a first run: the machine opens it empty and needs nothing else.
  const firstRun = (result: (typeof primaries)[number]) =>
    result !== null &&
    !result.ok &&
    result.error.code === 'not-found' &&
    result.error.details?.backups === undefined
  const viaSession =
    options.full === true || primaries.some((result) => result !== null && !result.ok && !firstRun(result))
  let session: WorkspaceSession | null = null
  /** Per key: what loaded, `null` when the document did not open, `undefined` when remembered. */
  const loaded = new Map<Key, { data: unknown; revision: number; firstRun: boolean } | null>()
  if (viaSession) {
    session = createWorkspaceSession({ repository: repo, config, clock })
    const opened = await Promise.all(KEYS.map(async (key) => [key, await session!.open(key)] as const))
    for (const [key, result] of opened) {
      const acked = expected.acked[key]
      if (result.status !== 'ready') {
        const code = result.status === 'failed' ? result.error.code : result.recovery.problem.code
        if (acked >= 0) violations.push(`I2 ${key}: ${result.status} (${code}) after an acknowledged save`)
        loaded.set(key, null)
        continue
      }
      const empty = result.source === 'empty'
      loaded.set(key, { data: result.data, revision: result.savedRevision, firstRun: empty })
      checkLoaded(key, { data: result.data, firstRun: empty }, expected, violations)
    }
  } else {
    KEYS.forEach((key, i) => {
      const remembered = known(key)
      if (remembered !== undefined) {
        checkLoaded(key, remembered, expected, violations)
        return
      }
      const result = primaries[i]!
      const entry = result.ok
        ? { data: result.data, revision: result.revision, firstRun: false }
        : { data: null, revision: 0, firstRun: true }
      loaded.set(key, entry)
      checkLoaded(key, entry, expected, violations)
    })
  }
  const temps = await storage.listTempFiles()
  if (temps.length > 0) violations.push(`I4: temp files left after the open: ${temps.join(', ')}`)
  // Backups cost as much as the rest of a check: they are verified on every state that went through recovery and
  // on the sampled full checks, which is where a bad backup would matter.
  for (const key of viaSession ? KEYS : []) {
    for (const backup of await repo.listBackups(key)) {
      const read = await repo.readBackup(key, backup)
      if (!read.ok) violations.push(`I1 ${key}: backup ${backup.name} does not verify (${read.error.code})`)
      else if (!expected.versions[key].some((v) => sameData(v, read.data)))
        violations.push(`I1 ${key}: backup ${backup.name} holds data that was never saved`)
    }
  }
  if (expected.damaged.length > 0) {
    const now = Object.values(storage.files())
    for (const bytes of expected.damaged) {
      if (!now.some((file) => equalBytes(file, bytes))) violations.push('rule 5: a damaged file was deleted')
    }
  }
  const recoverySteps = storage.steps.length
  for (const key of KEYS) {
    const before = loaded.get(key)
    if (before === null || before === undefined) continue
    const data =
      key === 'project' ? projectAt(999) : key === 'settings' ? settingsAt(59) : conversationAt(9, 9)
    if (session !== null) {
      session.change(key, data as never)
      const outcome = await session.flush(key)
      if (outcome.result !== 'saved') {
        violations.push(`I4 ${key}: the next save did not succeed (${outcome.error?.code ?? outcome.result})`)
        continue
      }
    } else {
      const error = await repo.save(key, data, before.revision + 1).then(
        () => null,
        (e: unknown) => e as { code?: string },
      )
      if (error !== null) {
        violations.push(`I4 ${key}: the next save did not succeed (${error.code ?? 'error'})`)
        continue
      }
    }
    const back = await createRepository({ storage: disk, config }).load(key)
    if (!back.ok || !sameData(back.data, data)) {
      violations.push(`I4 ${key}: the next save does not read back`)
      continue
    }
    if (!viaSession && !hasTemps)
      memo?.set(docKeys.get(key)!, { data: before.data, firstRun: before.firstRun })
  }
  await session?.close()
  return { violations, storage, recoverySteps }
}

/** I1 and I2 for one document as it opened (first run: opened empty). */
function checkLoaded(
  key: Key,
  loaded: { data: unknown; firstRun: boolean },
  expected: Expectation,
  violations: string[],
): void {
  if (loaded.firstRun) {
    if (expected.acked[key] >= 0) violations.push(`I2 ${key}: opened empty after an acknowledged save`)
    return
  }
  checkVersion(key, loaded.data, expected, violations)
}

/** The files a document's load reads (primary, journal, backups; not temp files), as a hash. */
function documentFilesKey(key: Key, files: Record<string, Uint8Array>): string {
  const prefixes =
    key === 'project'
      ? ['project.json', 'project.journal.jsonl', '.saveflow/backups/project/']
      : key === 'settings'
        ? ['settings.json', '.saveflow/backups/settings/']
        : ['conversations/c1.', '.saveflow/backups/conversation/c1/']
  const parts: string[] = [key]
  for (const [path, bytes] of Object.entries(files)) {
    if (!prefixes.some((prefix) => path.startsWith(prefix)) || isTempFileName(baseName(path))) continue
    parts.push(`${path}:${bytes.length}:${hashOf(bytes)}`)
  }
  return parts.sort().join('|')
}

const hashes = new WeakMap<Uint8Array, number>()
function hashOf(bytes: Uint8Array): number {
  let hash = hashes.get(bytes)
  if (hash === undefined) {
    hash = crc32(bytes)
    hashes.set(bytes, hash)
  }
  return hash
}

/** I1 and I2 for one loaded document: it is a saved version, the acknowledged one or newer. */
function checkVersion(key: Key, data: unknown, expected: Expectation, violations: string[]): void {
  const list = expected.versions[key]
  let index = -1
  for (let i = list.length - 1; i >= 0; i--) {
    if (sameData(list[i], data)) {
      index = i
      break
    }
  }
  if (index < 0) violations.push(`I1 ${key}: loaded data that was never saved`)
  else if (index < expected.acked[key])
    violations.push(`I2 ${key}: loaded version ${index}, older than acknowledged ${expected.acked[key]}`)
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** A short signature of what is expected at a crash point, to deduplicate (state, expectation) pairs. */
export function expectationKey(expected: Expectation): string {
  return KEYS.map((key) => expected.acked[key]).join(',')
}

/**
 * The codec variant "records without checksum": every checksum a reader meets is rewritten to match the bytes it
 * covers, so the reader's check can never fail. What the writer wrote is unchanged; only verification is gone.
 */
export function withoutChecksums(inner: StorageBackend): StorageBackend {
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()
  return {
    ...inner,
    async read(path, options) {
      const bytes = await inner.read(path, options)
      if (path.endsWith('.jsonl')) return fixRecordChecksums(bytes)
      if (!path.endsWith('.json')) return bytes
      const text = decoder.decode(bytes)
      const match = /"checksum":"crc32:[0-9a-f]{8}","data":/.exec(text)
      if (match === null || !text.endsWith('}\n')) return bytes
      const dataStart = match.index + match[0].length
      const data = encoder.encode(text.slice(dataStart, -2))
      const hex = crc32(data).toString(16).padStart(8, '0')
      return encoder.encode(
        `${text.slice(0, match.index)}"checksum":"crc32:${hex}","data":${text.slice(dataStart)}`,
      )
    },
  }
}

/** Rewrites the `crc` of every record line (`{"len":N,"crc":"........","rec":...}`) to the CRC of its `rec` bytes. */
function fixRecordChecksums(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice()
  const prefix = new TextEncoder().encode('"crc":"')
  const rec = new TextEncoder().encode('","rec":')
  let lineStart = 0
  while (lineStart < out.length) {
    let lineEnd = out.indexOf(0x0a, lineStart)
    if (lineEnd === -1) lineEnd = out.length
    const crcAt = indexOf(out, prefix, lineStart, lineEnd)
    const recAt = crcAt < 0 ? -1 : indexOf(out, rec, crcAt, lineEnd)
    // The record's bytes run from after `"rec":` to before the closing brace of the line.
    if (crcAt >= 0 && recAt === crcAt + prefix.length + 8 && out[lineEnd - 1] === 0x7d) {
      const hex = crc32(out, recAt + rec.length, lineEnd - 1)
        .toString(16)
        .padStart(8, '0')
      out.set(new TextEncoder().encode(hex), crcAt + prefix.length)
    }
    lineStart = lineEnd + 1
  }
  return out
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  outer: for (let i = from; i + needle.length <= to; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}
