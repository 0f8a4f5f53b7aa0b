import { crc32 } from '../core/checksum'
import { parentDir } from '../core/paths'
import type { StorageBackend, StorageOp } from '../core/storage'
import { type Call, type MemoryStepType, memoryBackend } from './memory-backend'
import { type Inode, type MemoryState, stateFromFiles } from './memory-state'

/**
 * Crash-state enumeration for the reliability suite. `memory-storage.ts` answers "what does a power cut after step n
 * leave" with one answer (its durable layer); a real disk can leave many. This module records every disk step with
 * its bytes and then builds every state a disk may show after a cut at step n:
 * - what was fsynced survives; a name (create, rename, link, unlink, mkdir) survives only after its folder's fsync;
 * - each change that was not made durable yet may or may not have landed, and those that landed may have landed in
 *   any order (every order while at most 8 are pending, else seeded samples);
 * - unsynced data that landed may have landed whole, as a prefix, as zeros (the size was updated, the blocks were
 *   not), or as garbage (a bit flipped in a sector).
 * A rename is one unit per folder (a journaling file system commits it atomically), so a cut never loses a file a
 * rename was moving unless one folder was fsynced and the other was not.
 *
 * Browser-safe (no Node imports), like the rest of `src/testing`.
 */

/** One recorded step, with what is needed to replay it: the inode and the bytes. */
export interface RecordedStep {
  /** 1-based position in the log. */
  seq: number
  step: MemoryStepType
  call: StorageOp
  callId: number
  path: string
  to?: string
  /** The inode the step acts on (create, write, append, truncate, fsync, rename, link). */
  inode?: number
  /** write: the whole new content; append: the appended bytes. */
  data?: Uint8Array
  /** append: the offset the bytes went to; truncate: the new size. */
  offset?: number
}

/**
 * Write paths with one durability rule removed, to prove the suite catches them:
 * - `no-file-fsync`: file fsyncs are skipped (the data of a replace never becomes durable);
 * - `no-dir-fsync`: folder fsyncs are skipped (a rename or create never becomes durable);
 * - `rename-before-fsync`: a temp file is renamed over its target before it is fsynced.
 */
export type BrokenRule = 'no-file-fsync' | 'no-dir-fsync' | 'rename-before-fsync'

/** Options of {@link createRecordingStorage}. */
export interface RecordingStorageOptions {
  /** Files present, and durable, at the start. */
  files?: Readonly<Record<string, Uint8Array>>
  /** Clock for modification times. @default Date.now */
  now?: () => number
  /** A write path with one rule removed. @default none: the memory backend as it is */
  broken?: BrokenRule
}

/** A memory backend that records each step with its bytes, for {@link exploreCrashStates}. */
export interface RecordingStorage extends StorageBackend {
  /** The files it started with. */
  readonly initial: Readonly<Record<string, Uint8Array>>
  /** Every step so far. */
  readonly steps: readonly RecordedStep[]
  /** The files a reader sees now. */
  files(): Record<string, Uint8Array>
}

/** Creates a recording storage. */
export function createRecordingStorage(options: RecordingStorageOptions = {}): RecordingStorage {
  const now = options.now ?? Date.now
  const initial: Record<string, Uint8Array> = {}
  for (const [path, bytes] of Object.entries(options.files ?? {})) initial[path] = bytes.slice()
  const state: MemoryState = stateFromFiles(initial, now())
  const ids = new Map<Inode, number>()
  const idOf = (inode: Inode | undefined): number | undefined => {
    if (inode === undefined) return undefined
    let id = ids.get(inode)
    if (id === undefined) {
      id = ids.size + 1
      ids.set(inode, id)
    }
    return id
  }
  // Inodes of the initial files get their ids in path order, so replays can name them the same way.
  for (const path of Object.keys(initial).sort()) idOf(state.files.get(path))
  const steps: RecordedStep[] = []
  let callCount = 0
  let tempCount = 0
  /** rename-before-fsync: a temp file's fsync waits for its rename. */
  let deferredFsync: { path: string; inode: Inode } | null = null

  const push = (step: Omit<RecordedStep, 'seq'>) => steps.push({ seq: steps.length + 1, ...step })

  function step(
    call: Call,
    type: MemoryStepType,
    path: string,
    apply: () => void,
    extra: { to?: string; bytes?: number } = {},
  ): void {
    const base = {
      step: type,
      call: call[0],
      callId: call[1],
      path,
      ...(extra.to === undefined ? {} : extra),
    }
    if (options.broken === 'no-file-fsync' && type === 'fsync') return
    if (options.broken === 'no-dir-fsync' && type === 'fsync-dir') return
    if (
      options.broken === 'rename-before-fsync' &&
      type === 'fsync' &&
      (call[0] === 'writeAtomic' || call[0] === 'linkOrCopy')
    ) {
      const inode = state.files.get(path)
      if (inode !== undefined) {
        deferredFsync = { path, inode }
        return
      }
    }
    const before = state.files.get(path)
    const sizeBefore = before?.data.length ?? 0
    apply()
    switch (type) {
      case 'create':
        push({ ...base, inode: idOf(state.files.get(path))! })
        break
      case 'write': {
        const inode = state.files.get(path)!
        push({ ...base, inode: idOf(inode)!, data: inode.data })
        break
      }
      case 'append': {
        const inode = state.files.get(path)!
        push({ ...base, inode: idOf(inode)!, data: inode.data.slice(sizeBefore), offset: sizeBefore })
        break
      }
      case 'truncate':
        push({ ...base, inode: idOf(state.files.get(path))!, offset: extra.bytes ?? 0 })
        break
      case 'fsync':
        push({ ...base, inode: idOf(state.files.get(path))! })
        break
      case 'rename':
      case 'link':
        push({ ...base, inode: idOf(state.files.get(extra.to!))! })
        break
      default:
        push(base)
    }
    if (type === 'rename' && deferredFsync !== null && deferredFsync.path === path) {
      // The fsync the broken path skipped, now after the rename: the target may hold unsynced data meanwhile.
      const { inode } = deferredFsync
      deferredFsync = null
      inode.synced = inode.data
      inode.appendOnly = true
      push({ step: 'fsync', call: call[0], callId: call[1], path: extra.to!, inode: idOf(inode)! })
    }
  }

  const backend = memoryBackend({
    state,
    now,
    hardLinks: true,
    step,
    nextCallId: () => ++callCount,
    nextTempNumber: () => ++tempCount,
  })
  return {
    ...backend,
    initial,
    steps,
    files: () =>
      Object.fromEntries(
        [...state.files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, inode]) => [p, inode.data.slice()]),
      ),
  }
}

/** One state a crash may leave. */
export interface CrashState {
  /** Every file and its bytes. */
  files: Record<string, Uint8Array>
  /** A hash of the files, equal for equal states. */
  key: string
}

/** Options of {@link exploreCrashStates}. */
export interface ExploreOptions {
  /** Pending changes up to which every order is tried. @default 8 */
  maxExhaustive?: number
  /** Seeded samples when more are pending. @default 64 */
  samples?: number
  /** Seed of the samples and of the garbage. @default 1 */
  seed?: number
  /** Most states per crash point (a safety cap; the exhaustive search stops there). @default 512 */
  cap?: number
}

type DataOp =
  | { kind: 'replace'; bytes: Uint8Array }
  | { kind: 'append'; offset: number; bytes: Uint8Array }
  | { kind: 'truncate'; size: number }

/**
 * A change of one folder's entries (`folder`): `inode` set at `path`, or `null` to remove it; `dir: true` for a
 * mkdir.
 */
interface NamePart {
  folder: string
  path: string
  inode: number | null
  dir?: boolean
}

type Unit = { kind: 'names'; parts: NamePart[] } | { kind: 'data'; inode: number; op: DataOp }

/** What a disk holds: names, folders and contents. Immutable maps are copied on change. */
interface DiskImage {
  names: Map<string, number>
  dirs: Set<string>
  content: Map<number, Uint8Array>
}

/**
 * How unsynced data landed: whole; cut after its first byte, a quarter, half-way, three quarters, or one byte short
 * (a torn record at its start, in its first and second halves, and at its end, or, for an append of several
 * records, inside different ones of them); its extent filled with zeros, or only its second half (the size was
 * updated and the first blocks were written, the others not); or with one bit flipped in its first or second half.
 */
type Outcome =
  | 'whole'
  | 'prefix-1'
  | 'prefix-quarter'
  | 'prefix-half'
  | 'prefix-three-quarters'
  | 'prefix-most'
  | 'zeros'
  | 'zeros-tail'
  | 'garbage-1'
  | 'garbage-2'
const DATA_OUTCOMES: readonly Outcome[] = [
  'whole',
  'prefix-1',
  'prefix-quarter',
  'prefix-half',
  'prefix-three-quarters',
  'prefix-most',
  'zeros',
  'zeros-tail',
  'garbage-1',
  'garbage-2',
]

/**
 * Replays `steps` from `initial` (all durable) and calls `visit` with every distinct crash state after each step in
 * `[from, to]` (0 is before the first step). Within one crash point states are deduplicated; `visit` gets the
 * point and the state. Returns how many states were visited.
 */
export function exploreCrashStates(
  initial: Readonly<Record<string, Uint8Array>>,
  steps: readonly RecordedStep[],
  visit: (n: number, state: CrashState) => void,
  range: { from?: number; to?: number } = {},
  options: ExploreOptions = {},
): number {
  const from = range.from ?? 0
  const to = Math.min(range.to ?? steps.length, steps.length)
  const maxExhaustive = options.maxExhaustive ?? 8
  const samples = options.samples ?? 64
  const cap = options.cap ?? 512
  const random = mulberry32(options.seed ?? 1)

  // Visible and durable layers, as in memory-state.ts, plus the changes not yet durable.
  const visible: DiskImage = { names: new Map(), dirs: new Set(), content: new Map() }
  const durable: DiskImage = { names: new Map(), dirs: new Set(), content: new Map() }
  let nextInode = 1
  for (const path of Object.keys(initial).sort()) {
    const id = nextInode++
    visible.names.set(path, id)
    durable.names.set(path, id)
    visible.content.set(id, initial[path]!)
    durable.content.set(id, initial[path]!)
    for (let dir = parentDir(path); dir !== ''; dir = parentDir(dir)) {
      visible.dirs.add(dir)
      durable.dirs.add(dir)
    }
  }
  /** Pending data changes per inode, and pending entry changes per folder, in log order. */
  const pendingData = new Map<number, DataOp[]>()
  /** A rename across folders is one unit with a part in each: it lands whole until one folder is fsynced. */
  let pendingNames: NamePart[][] = []
  const addNames = (parts: NamePart[]) => pendingNames.push(parts)
  const addData = (inode: number, op: DataOp) => {
    const list = pendingData.get(inode) ?? []
    list.push(op)
    pendingData.set(inode, list)
  }

  let visited = 0
  const pointAt = (n: number) => {
    const units: Unit[] = []
    for (const [inode, ops] of pendingData) for (const op of ops) units.push({ kind: 'data', inode, op })
    for (const parts of pendingNames) units.push({ kind: 'names', parts })
    const seen = new Set<string>()
    const emit = (image: DiskImage) => {
      const state = materialize(image)
      if (seen.has(state.key) || seen.size >= cap) return
      seen.add(state.key)
      visited++
      visit(n, state)
    }
    if (units.length <= maxExhaustive) exhaustive(durable, units, emit, cap, random)
    else sampled(durable, units, emit, samples, random)
  }

  if (from === 0) pointAt(0)
  for (let i = 0; i < to; i++) {
    const s = steps[i]!
    applyStep(s)
    if (i + 1 >= from) pointAt(i + 1)
  }
  return visited

  function applyStep(s: RecordedStep): void {
    const dir = parentDir(s.path)
    switch (s.step) {
      case 'mkdir':
        visible.dirs.add(s.path)
        addNames([{ folder: dir, path: s.path, inode: null, dir: true }])
        break
      case 'create': {
        const id = s.inode!
        nextInode = Math.max(nextInode, id + 1)
        visible.names.set(s.path, id)
        visible.content.set(id, new Uint8Array(0))
        if (!durable.content.has(id)) durable.content.set(id, new Uint8Array(0))
        addNames([{ folder: dir, path: s.path, inode: id }])
        break
      }
      case 'write': {
        const op: DataOp = { kind: 'replace', bytes: s.data! }
        visible.content.set(s.inode!, applyData(visible.content.get(s.inode!), op, 'whole', random))
        addData(s.inode!, op)
        break
      }
      case 'append': {
        const op: DataOp = { kind: 'append', offset: s.offset!, bytes: s.data! }
        visible.content.set(s.inode!, applyData(visible.content.get(s.inode!), op, 'whole', random))
        addData(s.inode!, op)
        break
      }
      case 'truncate': {
        const op: DataOp = { kind: 'truncate', size: s.offset! }
        visible.content.set(s.inode!, applyData(visible.content.get(s.inode!), op, 'whole', random))
        addData(s.inode!, op)
        break
      }
      case 'fsync':
        durable.content.set(s.inode!, visible.content.get(s.inode!)!)
        pendingData.delete(s.inode!)
        break
      case 'rename': {
        const toDir = parentDir(s.to!)
        visible.names.delete(s.path)
        visible.names.set(s.to!, s.inode!)
        addNames([
          { folder: dir, path: s.path, inode: null },
          { folder: toDir, path: s.to!, inode: s.inode! },
        ])
        break
      }
      case 'link':
        visible.names.set(s.to!, s.inode!)
        addNames([{ folder: parentDir(s.to!), path: s.to!, inode: s.inode! }])
        break
      case 'unlink':
        visible.names.delete(s.path)
        addNames([{ folder: dir, path: s.path, inode: null }])
        break
      case 'fsync-dir': {
        // The folder's entries now match what is visible in it.
        const synced = s.path
        for (const path of [...durable.names.keys()]) {
          if (parentDir(path) === synced && !visible.names.has(path)) durable.names.delete(path)
        }
        for (const [path, id] of visible.names) if (parentDir(path) === synced) durable.names.set(path, id)
        for (const sub of [...durable.dirs]) {
          if (parentDir(sub) === synced && !visible.dirs.has(sub)) durable.dirs.delete(sub)
        }
        for (const sub of visible.dirs) if (parentDir(sub) === synced) durable.dirs.add(sub)
        pendingNames = pendingNames
          .map((parts) => parts.filter((part) => part.folder !== synced))
          .filter((parts) => parts.length > 0)
        break
      }
    }
  }

  /** The files of an image: names whose folders all exist, with their inode's content. */
  function materialize(image: DiskImage): CrashState {
    const files: Record<string, Uint8Array> = {}
    const parts: string[] = []
    const survives = (dir: string): boolean => dir === '' || (image.dirs.has(dir) && survives(parentDir(dir)))
    for (const path of [...image.names.keys()].sort()) {
      if (!survives(parentDir(path))) continue
      const id = image.names.get(path)!
      // A name whose inode never had data made durable holds what the disk had: nothing.
      const bytes = image.content.get(id) ?? new Uint8Array(0)
      files[path] = bytes
      parts.push(`${path}:${bytes.length}:${hashBytes(bytes)}`)
    }
    return { files, key: parts.join('|') }
  }
}

/** Every ordered subset of `units` landed on `base`, each data change in each outcome, deduplicated by memo. */
function exhaustive(
  base: DiskImage,
  units: readonly Unit[],
  emit: (image: DiskImage) => void,
  cap: number,
  random: () => number,
): void {
  const memo = new Set<string>()
  // Seven outcomes per data change make the orders of eight changes explode; the memo keeps equal states apart
  // from equal histories, and the budget bounds a point whose changes are many (only broken write paths get there).
  let budget = cap * 4
  const walk = (image: DiskImage, mask: number) => {
    emit(image)
    for (let i = 0; i < units.length; i++) {
      if (mask & (1 << i)) continue
      const unit = units[i]!
      const outcomes: readonly Outcome[] = unit.kind === 'data' ? DATA_OUTCOMES : ['whole']
      for (const outcome of outcomes) {
        if (--budget <= 0) return
        const next = landUnit(image, unit, outcome, random)
        const key = `${mask | (1 << i)}#${imageKey(next)}`
        if (memo.has(key)) continue
        memo.add(key)
        walk(next, mask | (1 << i))
      }
    }
  }
  walk(base, 0)
}

/** Seeded samples: a random order, a random number of landed changes, random outcomes. */
function sampled(
  base: DiskImage,
  units: readonly Unit[],
  emit: (image: DiskImage) => void,
  samples: number,
  random: () => number,
): void {
  emit(base)
  for (let s = 0; s < samples; s++) {
    const order = [...units]
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    const landed = Math.floor(random() * (order.length + 1))
    let image = base
    for (const unit of order.slice(0, landed)) {
      const outcome = DATA_OUTCOMES[Math.floor(random() * DATA_OUTCOMES.length)]!
      image = landUnit(image, unit, unit.kind === 'data' ? outcome : 'whole', random)
    }
    emit(image)
  }
}

function landUnit(image: DiskImage, unit: Unit, outcome: Outcome, random: () => number): DiskImage {
  if (unit.kind === 'data') {
    const content = new Map(image.content)
    content.set(unit.inode, applyData(image.content.get(unit.inode), unit.op, outcome, random))
    return { ...image, content }
  }
  const names = new Map(image.names)
  const dirs = new Set(image.dirs)
  for (const part of unit.parts) {
    if (part.dir === true) dirs.add(part.path)
    else if (part.inode === null) names.delete(part.path)
    else names.set(part.path, part.inode)
  }
  return { ...image, names, dirs }
}

/** The content after one data change landed, in the given outcome. */
function applyData(
  current: Uint8Array | undefined,
  op: DataOp,
  outcome: Outcome,
  random: () => number,
): Uint8Array {
  const old = current ?? new Uint8Array(0)
  if (op.kind === 'truncate') {
    const next = new Uint8Array(op.size)
    next.set(old.subarray(0, Math.min(op.size, old.length)))
    return next
  }
  const offset = op.kind === 'append' ? op.offset : 0
  let bytes = op.bytes
  const length = bytes.length
  if (outcome === 'prefix-1') bytes = bytes.subarray(0, Math.min(1, length))
  else if (outcome === 'prefix-quarter') bytes = bytes.subarray(0, Math.floor(length / 4))
  else if (outcome === 'prefix-half') bytes = bytes.subarray(0, Math.floor(length / 2))
  else if (outcome === 'prefix-three-quarters') bytes = bytes.subarray(0, Math.floor((length * 3) / 4))
  else if (outcome === 'prefix-most') bytes = bytes.subarray(0, Math.max(0, length - 1))
  else if (outcome === 'zeros') bytes = new Uint8Array(length)
  else if (outcome === 'zeros-tail') {
    bytes = bytes.slice()
    bytes.fill(0, Math.floor(length / 2))
  } else if ((outcome === 'garbage-1' || outcome === 'garbage-2') && length > 0) {
    bytes = bytes.slice()
    // One flipped low bit keeps most text valid text: only a checksum can tell it from what was written.
    // The flip lands on a letter or digit when the half has one: text that stays valid JSON is what a reader
    // without a checksum would take for what was written.
    const from = outcome === 'garbage-1' ? 0 : Math.floor(length / 2)
    const to = outcome === 'garbage-1' ? Math.max(1, Math.floor(length / 2)) : length
    const letters: number[] = []
    for (let i = from; i < to; i++) if (isAlphanumeric(bytes[i]!)) letters.push(i)
    const at =
      letters.length > 0
        ? letters[Math.floor(random() * letters.length)]!
        : Math.min(length - 1, from + Math.floor(random() * (to - from)))
    bytes[at] = bytes[at]! ^ 1
  }
  const keep = op.kind === 'replace' ? 0 : old.length
  const size = Math.max(keep, offset + bytes.length)
  const next = new Uint8Array(size)
  next.set(old.subarray(0, Math.min(keep, old.length)))
  next.set(bytes, offset)
  return next
}

function isAlphanumeric(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a)
}

const byteHashes = new WeakMap<Uint8Array, string>()
function hashBytes(bytes: Uint8Array): string {
  let hash = byteHashes.get(bytes)
  if (hash === undefined) {
    hash = crc32(bytes).toString(36)
    byteHashes.set(bytes, hash)
  }
  return hash
}

function imageKey(image: DiskImage): string {
  const names = [...image.names].sort(([a], [b]) => (a < b ? -1 : 1))
  const parts = names.map(([path, id]) => {
    const bytes = image.content.get(id)
    return `${path}=${id}:${bytes === undefined ? '-' : `${bytes.length}.${hashBytes(bytes)}`}`
  })
  return `${parts.join('|')}#${[...image.dirs].sort().join(',')}`
}

/** A small seeded generator (mulberry32): the same seed gives the same samples and the same garbage. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
