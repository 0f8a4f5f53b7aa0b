/** What every case is given: the mode, the workloads, temp folders, the peers, and saveflow's bench settings. */
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { OpenWorkspaceOptions } from 'saveflow/node'
import { ioCounters, ioDelta } from './fs-trace'
import { confPeer, lowdbPeer, type PeerFactory, rawReference, zustandPersistPeer } from './peers'
import type { Sample } from './stats'
import type { Workload } from './workloads'

/** Shared by every case of one run. */
export interface BenchContext {
  /** `--quick`: every case once, on small data. */
  quick: boolean
  /** The run's temp folder (under `os.tmpdir()`, on the real disk). */
  root: string
  small: Workload
  /** The large workload; the small one in quick mode. */
  large: Workload
  /** Progress, to stderr. */
  log(message: string): void
  /** A new empty folder under {@link BenchContext.root}. */
  dir(name: string): Promise<string>
  /** Removes a folder made by {@link BenchContext.dir}. */
  drop(dir: string): Promise<void>
}

/** Creates the context of a run. */
export function createContext(options: {
  quick: boolean
  root: string
  small: Workload
  large: Workload
  log: (message: string) => void
}): BenchContext {
  return {
    ...options,
    dir: (name) => mkdtemp(join(options.root, `${name}-`)),
    drop: (dir) => rm(dir, { recursive: true, force: true }),
  }
}

/** The full-rewrite peers, the raw reference first: every one rewrites the whole state on each save. */
export const FULL_REWRITE_PEERS: ReadonlyArray<{ id: string; create: PeerFactory }> = [
  { id: 'raw', create: rawReference },
  { id: 'conf', create: confPeer },
  { id: 'lowdb', create: lowdbPeer },
  { id: 'zustand', create: zustandPersistPeer },
]

/**
 * Workspace options common to every case. The lock's heartbeat (a small rewrite of `.saveflow/lock` every 5 s by
 * default) is slowed down: it is not part of any save, and landing inside one would count its bytes as the save's.
 */
export const BENCH_WORKSPACE: Omit<OpenWorkspaceOptions, 'config' | 'wrapStorage'> = {
  lock: { heartbeatMs: 600_000, staleMs: 3_600_000 },
}

/** Times `fn` and counts the bytes the process wrote meanwhile. */
export async function measure(fn: () => Promise<unknown>): Promise<Sample> {
  const before = ioCounters()
  const start = performance.now()
  await fn()
  const ms = performance.now() - start
  return { ms, wchar: ioDelta(before, ioCounters())?.wchar ?? Number.NaN }
}
