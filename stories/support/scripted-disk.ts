import type { WriteFn, WriteRequest } from '../../src/core/save-coordinator'
import type { StoryClock } from './story-clock'

/** A system error code the scripted disk can fail with. */
export type DiskFault = 'EIO' | 'ENOSPC' | 'EACCES' | 'EROFS' | 'EBUSY'

/** One write as the disk saw it. */
export interface WriteRecord {
  key: string
  revision: number
  startedAt: number
  endedAt: number | null
  /** `ok`, a fault code, or `aborted`; null while the write is in flight. */
  result: 'ok' | DiskFault | 'aborted' | null
}

/** Options of {@link createScriptedDisk}. */
export interface ScriptedDiskOptions {
  /** How long each write takes, in simulated ms. @default 200 */
  latencyMs?: number | ((request: WriteRequest) => number)
  /** Outcomes of the next writes, in order, then `ok`: `['EIO', 'EIO']` fails twice, then saves. */
  script?: readonly (DiskFault | 'ok')[]
}

/**
 * A pretend disk: writes take simulated time and fail as scripted, so a story can show every failure mode
 * deterministically. It stands in for the faulty memory backend of `saveflow/testing` until that lands.
 */
export interface ScriptedDisk {
  write: WriteFn
  /** Every write so far, oldest first. */
  readonly log: readonly WriteRecord[]
  /** Keys being written right now. */
  readonly active: ReadonlySet<string>
  /** The most writes that were ever in flight at once. */
  readonly maxActive: number
  /** Makes every write fail with `fault` until cleared with null (a full disk, a permission taken away). */
  setStuck(fault: DiskFault | null): void
  readonly stuck: DiskFault | null
  /** Queues more scripted outcomes. */
  enqueue(...outcomes: (DiskFault | 'ok')[]): void
  /** Grows with every change of the log or the faults: a cheap snapshot for `useSyncExternalStore`. */
  readonly version: number
  /** Called after every change of the log. */
  subscribe(listener: () => void): () => void
}

/** A scripted disk on the story's clock: writes take `latencyMs` of simulated time and fail as scripted. */
export function createScriptedDisk(clock: StoryClock, options: ScriptedDiskOptions = {}): ScriptedDisk {
  const queue = [...(options.script ?? [])]
  const log: WriteRecord[] = []
  const active = new Set<string>()
  const listeners = new Set<() => void>()
  let maxActive = 0
  let stuck: DiskFault | null = null
  let version = 0
  const notify = () => {
    version += 1
    for (const listener of [...listeners]) listener()
  }
  const latencyOf = (request: WriteRequest) =>
    typeof options.latencyMs === 'function' ? options.latencyMs(request) : (options.latencyMs ?? 200)

  const write: WriteFn = (request) => {
    const record: WriteRecord = {
      key: request.key,
      revision: request.revision,
      startedAt: clock.now(),
      endedAt: null,
      result: null,
    }
    log.push(record)
    active.add(request.key)
    maxActive = Math.max(maxActive, active.size)
    notify()
    // The outcome is decided when the write starts, the way a real disk's state at that moment decides it.
    const outcome = stuck ?? queue.shift() ?? 'ok'
    return new Promise((resolve, reject) => {
      const finish = (result: WriteRecord['result']) => {
        record.endedAt = clock.now()
        record.result = result
        active.delete(request.key)
        notify()
      }
      const timer = clock.setTimeout(() => {
        if (outcome === 'ok') {
          finish('ok')
          resolve({ bytes: JSON.stringify(request.data ?? null).length })
        } else {
          finish(outcome)
          reject(Object.assign(new Error(`${outcome}: simulated by the story`), { code: outcome }))
        }
      }, latencyOf(request))
      request.signal.addEventListener('abort', () => {
        clock.clearTimeout(timer)
        finish('aborted')
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))
      })
    })
  }

  return {
    write,
    get log() {
      return log
    },
    get active() {
      return active
    },
    get maxActive() {
      return maxActive
    },
    get version() {
      return version
    },
    get stuck() {
      return stuck
    },
    setStuck(fault) {
      stuck = fault
      notify()
    },
    enqueue(...outcomes) {
      queue.push(...outcomes)
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
