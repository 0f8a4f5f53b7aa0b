/**
 * saveflow as the benchmark drives it: through the public API only (`openWorkspace`, `session.change`,
 * `session.flush`, `repository.save`), on a real folder, with the backend wrapped to count what the repository
 * hands it. Whatever the repository does (a snapshot rewrite today, journal appends once they land), these figures
 * follow without a change here.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Conversation, PersistenceConfigInput, SaveOutcome, StorageBackend } from 'saveflow'
import { type OpenWorkspaceOptions, openWorkspace, type Workspace } from 'saveflow/node'
import type { SampleWorkspace } from '../src/core/sample-data'

/** What the repository handed its backend, counted by {@link countingStorage}. */
export interface StorageCounter {
  /** Bytes passed to `writeAtomic` and `append`, plus bytes copied by a `linkOrCopy` that had to copy. */
  bytes: number
  /** `writeAtomic` calls (a whole file replaced). */
  replaces: number
  /** `append` calls (a journal or log record appended). */
  appends: number
  /** Paths of every `writeAtomic` and `append`, in order. */
  paths: string[]
}

const sizeOf = (data: Uint8Array | string): number =>
  typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength

/** Wraps a backend, counting what goes through it; everything else passes unchanged. */
export function countingStorage(inner: StorageBackend, counter: StorageCounter): StorageBackend {
  return {
    ...inner,
    async writeAtomic(path, data, options) {
      await inner.writeAtomic(path, data, options)
      counter.bytes += sizeOf(data)
      counter.replaces++
      counter.paths.push(path)
    },
    async append(path, data) {
      await inner.append(path, data)
      counter.bytes += sizeOf(data)
      counter.appends++
      counter.paths.push(path)
    },
    async linkOrCopy(from, to) {
      const method = await inner.linkOrCopy(from, to)
      if (method === 'copy') counter.bytes += (await inner.stat(to))?.size ?? 0
      return method
    },
  }
}

/** A new, zeroed counter. */
export const newCounter = (): StorageCounter => ({ bytes: 0, replaces: 0, appends: 0, paths: [] })

/** An open bench workspace and its counter. */
export interface BenchWorkspace {
  ws: Workspace
  counter: StorageCounter
}

/** Opens `dir` with a counting backend. */
export async function openBench(
  dir: string,
  config: PersistenceConfigInput,
  options: Omit<OpenWorkspaceOptions, 'config' | 'wrapStorage'> = {},
): Promise<BenchWorkspace> {
  const counter = newCounter()
  const ws = await openWorkspace(dir, {
    ...options,
    config,
    wrapStorage: (storage) => countingStorage(storage, counter),
  })
  return { ws, counter }
}

/** The keys of a sample's conversations. */
export const conversationKeys = (sample: SampleWorkspace): `conversation/${string}`[] =>
  sample.conversations.map((c) => `conversation/${c.id}` as const)

/** Opens every conversation of the sample (settled before anything is timed). */
export async function openConversations(ws: Workspace, sample: SampleWorkspace): Promise<void> {
  const results = await Promise.all(sample.conversations.map((c) => ws.openConversation(c.id)))
  const bad = results.find((r) => r.status !== 'ready')
  if (bad !== undefined) throw new Error(`conversation ${bad.key} opened as ${bad.status}`)
}

/** Hands every document of the sample to the session and flushes them all; throws unless every one saved. */
export async function saveAll(ws: Workspace, sample: SampleWorkspace): Promise<SaveOutcome[]> {
  ws.session.change('settings', sample.settings)
  ws.session.change('project', sample.project)
  for (const conversation of sample.conversations) {
    ws.session.change(`conversation/${conversation.id}`, conversation)
  }
  return expectSaved(await ws.session.flushAll({ deadlineMs: 120_000 }))
}

/** Changes one document and flushes it; resolves once it is durable. */
export async function changeAndFlush(ws: Workspace, key: string, data: unknown): Promise<SaveOutcome> {
  ws.session.change(key, data as never)
  const [outcome] = expectSaved([await ws.session.flush(key, { deadlineMs: 60_000 })])
  return outcome!
}

/** Throws unless every outcome is `saved`. */
export function expectSaved(outcomes: SaveOutcome[]): SaveOutcome[] {
  const bad = outcomes.find((o) => o.result !== 'saved')
  if (bad !== undefined)
    throw new Error(`save of ${bad.key} ended ${bad.result}: ${bad.error?.message ?? ''}`)
  return outcomes
}

/** The sum of the sizes of every file under `dir` (temp files included). */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    total += (await stat(join(entry.parentPath ?? dir, entry.name))).size
  }
  return total
}

/** Reads a conversation the way the app holds it. */
export const conversationData = (ws: Workspace, id: string): Conversation =>
  ws.session.data(`conversation/${id}`) as Conversation
