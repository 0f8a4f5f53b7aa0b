import type {
  AppendOptions,
  LinkMethod,
  ReadOptions,
  StorageBackend,
  StorageData,
  StorageEntry,
  StorageOp,
  StorageStat,
  WriteAtomicOptions,
} from '../core/storage'
import { type SystemErrorCode, systemError } from './system-error'

/**
 * A {@link StorageBackend} wrapper that fails chosen calls with chosen system errors, or slows them down. Faults come
 * from a script (`['EACCES', 'ok']`: the first save fails, the next succeeds) and from rules
 * (`{ op: 'writeAtomic', path: /project/, code: 'ENOSPC', times: 3 }`), and can be changed while it runs: a
 * developer fault panel or a story toggles them live and `subscribe`s to redraw.
 */

/** The errors a fault can raise. */
export type FaultCode = Extract<
  SystemErrorCode,
  | 'ENOSPC'
  | 'EDQUOT'
  | 'EACCES'
  | 'EPERM'
  | 'EROFS'
  | 'EIO'
  | 'EMFILE'
  | 'ENFILE'
  | 'EBUSY'
  | 'EAGAIN'
  | 'EXDEV'
>

/** One step of a script: `ok` lets the call through, a code fails it. */
export type ScriptStep = 'ok' | FaultCode

/** A standing fault. Every field narrows which calls it hits. */
export interface FaultRule {
  /** The calls it applies to. @default every call */
  op?: StorageOp | readonly StorageOp[]
  /** A path it applies to (either path of a rename or link): a pattern, or a substring. @default every path */
  path?: RegExp | string
  /** The error to raise; leave it out for a delay-only rule. */
  code?: FaultCode
  /** Latency added before the call, in ms. @default 0 */
  delayMs?: number
  /** Matching calls it affects before it retires. @default Infinity (a persistent fault) */
  times?: number
  /** Matching calls let through before it starts. @default 0 */
  skip?: number
  /**
   * `before`: the call fails without reaching the disk. `after`: the call is carried out, then reports the error,
   * like an fsync that fails after the rename (the change may be on disk, but was never acknowledged).
   * @default 'before'
   */
  when?: 'before' | 'after'
}

/** A rule as the backend holds it. */
export interface ActiveFaultRule extends FaultRule {
  id: number
  /** Matching calls seen so far (skipped ones included). */
  seen: number
  /** Calls it affected so far. */
  used: number
}

/** One call as the wrapper saw it. */
export interface FaultyCall {
  op: StorageOp
  path: string
  to?: string
  /** The error it raised, or `null`. */
  fault: FaultCode | null
  delayMs: number
}

/** Options of {@link createFaultyStorage}. */
export interface FaultyStorageOptions {
  /** The calls a script's steps are consumed by. @default ['writeAtomic', 'append'] (the calls that save) */
  scriptOps?: readonly StorageOp[]
  /** How to wait for a delay; a story passes one driven by its simulated clock. @default setTimeout */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/** The wrapper: a {@link StorageBackend} plus the controls of its faults. */
export interface FaultyStorage extends StorageBackend {
  readonly inner: StorageBackend
  /** Every call so far. */
  readonly calls: readonly FaultyCall[]
  /** Steps not consumed yet. */
  readonly script: readonly ScriptStep[]
  /** Replaces the script. */
  setScript(steps: readonly ScriptStep[]): void
  /** Adds a rule; returns its id. */
  addRule(rule: FaultRule): number
  /** Removes a rule by id. */
  removeRule(id: number): void
  /** The rules in force, in the order they are tried. */
  rules(): readonly ActiveFaultRule[]
  /** Removes every rule and the script. */
  clear(): void
  /** When false every call goes straight through (the panel's master switch). @default true */
  enabled: boolean
  /** Called after any change of faults or any faulted call; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
}

const SYSCALL: Readonly<Record<StorageOp, string>> = {
  writeAtomic: 'write',
  append: 'write',
  read: 'read',
  stat: 'stat',
  list: 'scandir',
  rename: 'rename',
  linkOrCopy: 'link',
  remove: 'unlink',
  truncate: 'ftruncate',
  listTempFiles: 'scandir',
  removeTempFiles: 'unlink',
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason)
      },
      { once: true },
    )
  })

/**
 * Wraps `inner`. `faults` mixes script steps (strings, consumed in order by the calls in `scriptOps`) and rules
 * (objects, see {@link FaultRule}); rules are tried first.
 */
export function createFaultyStorage(
  inner: StorageBackend,
  faults: readonly (ScriptStep | FaultRule)[] = [],
  options: FaultyStorageOptions = {},
): FaultyStorage {
  const scriptOps = new Set<StorageOp>(options.scriptOps ?? ['writeAtomic', 'append'])
  const sleep = options.sleep ?? defaultSleep
  let script: ScriptStep[] = faults.filter((f): f is ScriptStep => typeof f === 'string')
  let rules: ActiveFaultRule[] = []
  let nextId = 1
  let enabled = true
  const calls: FaultyCall[] = []
  const listeners = new Set<() => void>()
  const notify = (): void => {
    for (const listener of listeners) listener()
  }

  const addRule = (rule: FaultRule): number => {
    const id = nextId++
    rules.push({ ...rule, id, seen: 0, used: 0 })
    notify()
    return id
  }
  for (const fault of faults) if (typeof fault !== 'string') addRule(fault)

  const matches = (rule: ActiveFaultRule, op: StorageOp, paths: string[]): boolean => {
    if (rule.op !== undefined && !(typeof rule.op === 'string' ? [rule.op] : rule.op).includes(op))
      return false
    if (rule.path === undefined) return true
    const pattern = rule.path
    return paths.some((path) => {
      if (typeof pattern === 'string') return path.includes(pattern)
      pattern.lastIndex = 0
      return pattern.test(path)
    })
  }

  /** Decides the fault of one call and consumes what it uses. */
  function decide(
    op: StorageOp,
    paths: string[],
  ): { code: FaultCode | null; delayMs: number; when: 'before' | 'after' } {
    const none = { code: null, delayMs: 0, when: 'before' as const }
    if (!enabled) return none
    for (const rule of rules) {
      if (!matches(rule, op, paths)) continue
      rule.seen++
      if (rule.seen <= (rule.skip ?? 0) || rule.used >= (rule.times ?? Number.POSITIVE_INFINITY)) continue
      rule.used++
      return { code: rule.code ?? null, delayMs: rule.delayMs ?? 0, when: rule.when ?? 'before' }
    }
    if (scriptOps.has(op) && script.length > 0) {
      const step = script.shift()!
      return step === 'ok' ? none : { code: step, delayMs: 0, when: 'before' }
    }
    return none
  }

  async function run<T>(
    op: StorageOp,
    path: string,
    to: string | undefined,
    call: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const fault = decide(op, to === undefined ? [path] : [path, to])
    calls.push({ op, path, ...(to === undefined ? {} : { to }), fault: fault.code, delayMs: fault.delayMs })
    if (fault.code !== null) notify()
    if (fault.delayMs > 0) await sleep(fault.delayMs, signal)
    const error = fault.code === null ? null : systemError(fault.code, SYSCALL[op], path)
    if (error !== null && fault.when === 'before') throw error
    const result = await call()
    if (error !== null) throw error
    return result
  }

  return {
    inner,
    calls,
    get script() {
      return script
    },
    setScript(steps) {
      script = [...steps]
      notify()
    },
    addRule,
    removeRule(id) {
      rules = rules.filter((rule) => rule.id !== id)
      notify()
    },
    rules: () => rules,
    clear() {
      rules = []
      script = []
      notify()
    },
    get enabled() {
      return enabled
    },
    set enabled(value: boolean) {
      enabled = value
      notify()
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    writeAtomic: (path: string, data: StorageData, opts?: WriteAtomicOptions) =>
      run('writeAtomic', path, undefined, () => inner.writeAtomic(path, data, opts), opts?.signal),
    append: (path: string, data: StorageData, opts?: AppendOptions) =>
      run('append', path, undefined, () => inner.append(path, data, opts), opts?.signal),
    read: (path: string, opts: ReadOptions): Promise<Uint8Array> =>
      run('read', path, undefined, () => inner.read(path, opts)),
    stat: (path: string): Promise<StorageStat | null> => run('stat', path, undefined, () => inner.stat(path)),
    list: (dir: string): Promise<StorageEntry[]> => run('list', dir, undefined, () => inner.list(dir)),
    rename: (from: string, to: string) => run('rename', from, to, () => inner.rename(from, to)),
    linkOrCopy: (from: string, to: string): Promise<LinkMethod> =>
      run('linkOrCopy', from, to, () => inner.linkOrCopy(from, to)),
    remove: (path: string) => run('remove', path, undefined, () => inner.remove(path)),
    truncate: (path: string, size: number) =>
      run('truncate', path, undefined, () => inner.truncate(path, size)),
    listTempFiles: () => run('listTempFiles', '', undefined, () => inner.listTempFiles()),
    removeTempFiles: () => run('removeTempFiles', '', undefined, () => inner.removeTempFiles()),
  }
}
