import { SaveflowError } from '../core/errors'
import { assertStoragePath } from '../core/paths'
import type { StorageBackend, StorageData, StorageOp } from '../core/storage'
import { type Call, type MemoryStepType, memoryBackend } from './memory-backend'
import {
  type CrashOptions,
  cloneState,
  crashState,
  type Inode,
  type MemoryState,
  stateFromFiles,
} from './memory-state'

/**
 * A {@link StorageBackend} in memory that models durability (see `memory-state.ts`) and records every step that
 * changes it, the way the fs backend performs them (a replace is create temp, write, fsync, rename, folder fsync).
 * After each step it keeps a copy of the state, so a test can ask what a power cut right after any step would
 * leave: `crashAfter(n)`. Browser-safe: stories use it too.
 */

export type { MemoryStepType }

/**
 * One recorded step. Only steps that change the disk are logged: a crash after a read, stat or list leaves what a
 * crash before it would, so logging them would only repeat states. (The faulty wrapper's `calls` lists every call.)
 */
export interface MemoryOp {
  /** 1-based position in the log: `crashAfter(seq)` is the state right after this step. */
  seq: number
  step: MemoryStepType
  /** The backend call the step belongs to, and that call's number (steps of one call share it). */
  call: StorageOp
  callId: number
  /** The file or folder the step acts on. */
  path: string
  /** The target of a rename or link. */
  to?: string
  /** Bytes written, appended, or kept by a truncate. */
  bytes?: number
}

/** What a step hook sees before a step runs. Throwing from the hook fails the step (and so the call). */
export type MemoryStepHook = (step: Omit<MemoryOp, 'seq'>) => void

/** Options of {@link createMemoryStorage}. */
export interface MemoryStorageOptions {
  /** Files present (and durable) at the start. Text is stored as UTF-8. */
  files?: Readonly<Record<string, StorageData>>
  /** Clock for modification times. @default Date.now */
  now?: () => number
  /** False simulates a file system without hard links: `linkOrCopy` copies. @default true */
  hardLinks?: boolean
  /** Keep a state copy per step for `crashAfter` (turn off for long-running stories). @default true */
  record?: boolean
}

/** The memory backend: a {@link StorageBackend} plus the means to inspect it and crash it. */
export interface MemoryStorage extends StorageBackend {
  /** Every step so far (since creation or `clearLog`). */
  readonly log: readonly MemoryOp[]
  /** Simulates a power cut now: what was not durable is lost (see {@link CrashOptions}). */
  crash(options?: CrashOptions): void
  /**
   * A new memory backend holding what a power cut right after step `n` of the log would have left (`0`: before
   * the first step). This backend is not changed. Requires `record`.
   */
  crashAfter(n: number, options?: CrashOptions): MemoryStorage
  /** A new memory backend with the same state, volatile parts included, and an empty log. */
  fork(): MemoryStorage
  /** The files a reader sees now. */
  files(): Record<string, Uint8Array>
  /** The files a crash with `entries: 'drop'` would leave. */
  durableFiles(): Record<string, Uint8Array>
  /** A file as UTF-8 text, or `undefined`. */
  readText(path: string): string | undefined
  /** Forgets the log; `crashAfter(0)` is then the current state. */
  clearLog(): void
  /** Installs (or with `null` removes) a hook that runs before every step and may fail it. */
  setStepHook(hook: MemoryStepHook | null): void
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const toBytes = (data: StorageData): Uint8Array =>
  typeof data === 'string' ? encoder.encode(data) : data.slice()

/** Creates a memory backend. */
export function createMemoryStorage(options: MemoryStorageOptions = {}): MemoryStorage {
  const now = options.now ?? Date.now
  const initial: Record<string, Uint8Array> = {}
  for (const [path, data] of Object.entries(options.files ?? {})) {
    assertStoragePath(path)
    initial[path] = toBytes(data)
  }
  return fromState(stateFromFiles(initial, now()), options)
}

function fromState(start: MemoryState, options: MemoryStorageOptions): MemoryStorage {
  const now = options.now ?? Date.now
  const hardLinks = options.hardLinks ?? true
  const record = options.record ?? true
  let state = start
  let base = cloneState(state)
  let log: MemoryOp[] = []
  let states: MemoryState[] = []
  let hook: MemoryStepHook | null = null
  let callCount = 0
  let tempCount = 0

  /** Runs one step: the hook may fail it, then it is applied and recorded. */
  function step(
    call: Call,
    type: MemoryStepType,
    path: string,
    apply: () => void,
    extra: { to?: string; bytes?: number } = {},
  ): void {
    const op = { step: type, call: call[0], callId: call[1], path, ...extra }
    hook?.(op)
    apply()
    log.push({ seq: log.length + 1, ...op })
    if (record) states.push(cloneState(state))
  }

  const backend = memoryBackend({
    get state() {
      return state
    },
    now,
    hardLinks,
    step,
    nextCallId: () => ++callCount,
    nextTempNumber: () => ++tempCount,
  })

  const snapshotOf = (files: Map<string, Inode>, pick: (inode: Inode) => Uint8Array) =>
    Object.fromEntries(
      [...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, inode]) => [path, pick(inode)]),
    )

  return {
    ...backend,
    get log() {
      return log
    },
    crash(crashOptions?: CrashOptions) {
      state = crashState(state, crashOptions)
    },
    crashAfter(n: number, crashOptions?: CrashOptions) {
      if (!record)
        throw new SaveflowError('io', { message: 'crashAfter needs a memory backend with record: true.' })
      if (!Number.isInteger(n) || n < 0 || n > log.length) {
        throw new SaveflowError('io', { message: `No step ${n} in a log of ${log.length} steps.` })
      }
      const at = n === 0 ? base : states[n - 1]!
      return fromState(crashState(at, crashOptions), options)
    },
    fork() {
      return fromState(cloneState(state), options)
    },
    files: () => snapshotOf(state.files, (inode) => inode.data.slice()),
    durableFiles: () => snapshotOf(crashState(state).files, (inode) => inode.data.slice()),
    readText(path: string) {
      const inode = state.files.get(path)
      return inode === undefined ? undefined : decoder.decode(inode.data)
    },
    clearLog() {
      log = []
      states = []
      base = cloneState(state)
    },
    setStepHook(next: MemoryStepHook | null) {
      hook = next
    },
  }
}
