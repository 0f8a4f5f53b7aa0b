/**
 * The libraries the durability audit runs, each behind the same small interface: start as an app starts (load what
 * is on disk), hand it edits as an app does (not awaited), wait until what was handed over is on disk, close.
 * saveflow runs with its defaults; the peers as their documentation shows (see `peers.ts`).
 */
import { resolve } from 'node:path'
import type { ProjectData } from 'saveflow'
import { openWorkspace, type Workspace } from 'saveflow/node'
import { BENCH_WORKSPACE, FULL_REWRITE_PEERS } from './context'
import { sleep } from './stats'

/** What the app got when it started. */
export type Loaded =
  | { kind: 'data'; data: unknown }
  | { kind: 'empty' }
  | { kind: 'error'; message: string }
  | { kind: 'recovered'; data: unknown; detail: string }
  | { kind: 'needs-user'; detail: string }

/** A started library. */
export interface Running {
  loaded: Loaded
  /** Hands over new state, as an app does on each edit; not awaited. */
  edit(state: ProjectData): void
  /** Resolves once everything handed over is on disk (without forcing a write: debounce timers run out). */
  settle(): Promise<void>
  close(): Promise<void>
  /** Absolute paths of the files holding the state. */
  files: string[]
}

/** One library under audit. */
export interface Subject {
  id: string
  name: string
  /** Starts in `dir`; rejects when the library refuses to start (what the app would see thrown). */
  start(dir: string): Promise<Running>
}

const message = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]!.slice(0, 80)}` : String(error)

const saveflowSubject: Subject = {
  id: 'saveflow',
  name: 'saveflow',
  async start(dir) {
    const ws: Workspace = await openWorkspace(dir, BENCH_WORKSPACE)
    const files = ['project.json', 'project.journal.jsonl'].map((f) => resolve(dir, f))
    let loaded: Loaded
    const result = ws.project
    if (result.status === 'ready') {
      const recovery = result.recovery
      if (recovery === null) {
        loaded = result.source === 'empty' ? { kind: 'empty' } : { kind: 'data', data: result.data }
      } else {
        const problem = `${recovery.problem.code}${recovery.quarantinedTo ? `, moved to ${recovery.quarantinedTo}` : ''}`
        loaded = {
          kind: 'recovered',
          data: result.data,
          detail: `${problem}; opened from ${result.source}`,
        }
      }
    } else if (result.status === 'needsUser') {
      const recovery = result.recovery
      loaded = {
        kind: 'needs-user',
        detail: `${recovery.problem.code}${recovery.quarantinedTo ? `, moved to ${recovery.quarantinedTo}` : ''}`,
      }
      // The user picks "start empty" in the recovery dialog; the app goes on from there.
      await result.startEmpty()
    } else {
      loaded = { kind: 'error', message: `${result.error.code}: ${result.error.message}` }
    }
    return {
      loaded,
      files,
      edit: (state) => void ws.session.change('project', state),
      async settle() {
        for (let waited = 0; waited < 10_000; waited += 20) {
          const status = ws.coordinator.status('project')
          if (status.status === 'saved' && status.savedRevision === status.pendingRevision) return
          await sleep(20)
        }
        throw new Error('saveflow did not settle')
      },
      close: async () => void (await ws.close()),
    }
  },
}

const peerSubjects: Subject[] = FULL_REWRITE_PEERS.map(({ id, create }) => ({
  id,
  name: id,
  async start(dir) {
    const peer = await create(dir)
    let loaded: Loaded
    try {
      const data = await peer.load()
      const empty =
        data === null ||
        data === undefined ||
        (typeof data === 'object' && Object.keys(data as object).length === 0)
      loaded = empty ? { kind: 'empty' } : { kind: 'data', data }
    } catch (error) {
      loaded = { kind: 'error', message: message(error) }
    }
    const pending: Promise<void>[] = []
    return {
      loaded,
      files: [peer.file],
      edit: (state) => void pending.push(peer.save(state).catch(() => {})),
      settle: async () => void (await Promise.allSettled(pending.splice(0))),
      close: async () => {},
    }
  },
}))

/** Every library of the audit, saveflow first. */
export const AUDIT_SUBJECTS: readonly Subject[] = [saveflowSubject, ...peerSubjects]

/** Names for the audit table. */
export const SUBJECT_NAMES: Readonly<Record<string, string>> = {
  saveflow: 'saveflow',
  raw: 'raw reference (write-file-atomic + folder fsync)',
  conf: 'conf 15 (electron-store)',
  lowdb: 'lowdb 7',
  zustand: 'zustand persist (file storage)',
}

export { message as errorText }
