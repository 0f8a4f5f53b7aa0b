import { toSaveflowError } from '../../src/core/errors'
import type { WriteFn } from '../../src/core/save-coordinator'

/**
 * A log of the saves the coordinator makes, for the story's disk panel: each call of the repository's `writeFn`,
 * when it started and how it ended. It only watches; the write itself is the repository's, on the faulty storage.
 */

/** One save as the log saw it. */
export interface SaveRecord {
  key: string
  revision: number
  startedAt: number
  endedAt: number | null
  /** `ok`, `aborted`, or the system error code (`ENOSPC`), else the saveflow code; null while in flight. */
  result: string | null
}

/** The log, and the write that feeds it. */
export interface SaveLog {
  /** The repository's write, watched. */
  write: WriteFn
  /** Every save so far, oldest first. */
  readonly records: readonly SaveRecord[]
  /** Keys being written right now. */
  readonly active: ReadonlySet<string>
  /** The most saves that were ever in flight at once. */
  readonly maxActive: number
  /** Grows with every change: a cheap snapshot for `useSyncExternalStore`. */
  readonly version: number
  /** Called after every change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
}

/** Watches `write`, timing each save with `now`. */
export function createSaveLog(write: WriteFn, now: () => number): SaveLog {
  const records: SaveRecord[] = []
  const active = new Set<string>()
  const listeners = new Set<() => void>()
  let maxActive = 0
  let version = 0
  const notify = () => {
    version += 1
    for (const listener of [...listeners]) listener()
  }

  const watched: WriteFn = async (request) => {
    const record: SaveRecord = {
      key: request.key,
      revision: request.revision,
      startedAt: now(),
      endedAt: null,
      result: null,
    }
    records.push(record)
    active.add(request.key)
    maxActive = Math.max(maxActive, active.size)
    notify()
    const finish = (result: string) => {
      record.endedAt = now()
      record.result = result
      active.delete(request.key)
      notify()
    }
    try {
      const written = await write(request)
      finish('ok')
      return written
    } catch (error) {
      const problem = toSaveflowError(error)
      finish(request.signal.aborted ? 'aborted' : (problem.sysCode ?? problem.code))
      throw error
    }
  }

  return {
    write: watched,
    records,
    active,
    get maxActive() {
      return maxActive
    },
    get version() {
      return version
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
