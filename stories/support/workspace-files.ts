import { createRepository } from '../../src/core/repository'
import type { Conversation, ProjectData } from '../../src/core/schemas'
import { emptyDocumentData } from '../../src/core/workspace-session'
import { createMemoryStorage } from '../../src/testing/index'

/**
 * What earlier runs left on disk, made the way the app makes it: real saves through a real repository on a memory
 * disk, each at its own simulated moment, so the files, journals and backups a story opens are the genuine article.
 * Damage is then done to the bytes, as bit rot or a torn copy would, never by writing a fake file.
 */

export const MIN = 60_000
export const HOUR = 60 * MIN

/** Simulated time starts at a round, recognisable moment rather than at 0 (which reads like "never"). */
export const START = Date.UTC(2025, 0, 6, 9, 0, 0)

/** When the story's project was created, long before any story starts. */
const CREATED = new Date(START - 24 * HOUR).toISOString()

/** The project the stories edit: "Garden plan" with one root feature per title. */
export function gardenProject(features: readonly string[], name = 'Garden plan'): ProjectData {
  const project = emptyDocumentData('project', START - 24 * HOUR) as ProjectData
  return {
    ...project,
    metadata: { ...project.metadata, name },
    tree: features.map((title, order) => ({
      id: `n${order + 1}`,
      parentId: null,
      order,
      title,
      description: '',
      createdAt: CREATED,
      updatedAt: CREATED,
    })),
  }
}

/** A conversation with one more message (ids and times as the chat store makes them). */
export function withMessage(conversation: Conversation, content: string, at: number): Conversation {
  const iso = new Date(at).toISOString()
  return {
    ...conversation,
    messages: [
      ...conversation.messages,
      { id: `m${conversation.messages.length + 1}`, role: 'user', content, createdAt: iso },
    ],
    updatedAt: iso,
  }
}

/** A save an earlier run made: the document's data at simulated time `at`. */
export interface PastSave {
  key: string
  data: unknown
  at: number
}

/** Options of {@link filesAfter}. */
export interface FilesAfterOptions {
  /**
   * Compact the journaled documents at the end (what the app does when it is idle or closes): `project.json` then
   * holds the newest save whole and the journal starts afresh.
   * @default false
   */
  compact?: boolean
}

/**
 * The files a workspace holds after `saves` (revisions counted per document, from 1). Every save after a document's
 * first backs up the version it replaces (a backup interval of 0), so each earlier save is also a backup.
 */
export async function filesAfter(
  saves: readonly PastSave[],
  options: FilesAfterOptions = {},
): Promise<Record<string, Uint8Array>> {
  let now = saves[0]?.at ?? START
  const storage = createMemoryStorage({ now: () => now, record: false })
  const repository = createRepository({ storage, now: () => now, config: { backupInterval: 0 } })
  const revisions = new Map<string, number>()
  for (const save of saves) {
    now = save.at
    const revision = (revisions.get(save.key) ?? 0) + 1
    revisions.set(save.key, revision)
    await repository.save(save.key, save.data, revision)
  }
  if (options.compact === true) {
    for (const key of revisions.keys()) await repository.compact(key)
  }
  return storage.files()
}

/** The default disk of a story: the project, saved once an hour before the story starts. */
export function savedProjectFiles(): Promise<Record<string, Uint8Array>> {
  return filesAfter([{ key: 'project', data: gardenProject(['Beds', 'Seeds', 'Water']), at: START - HOUR }])
}

/**
 * The files with every file `pick` chooses damaged: one letter near the end of its data changes case, as a flipped
 * bit would, so the file still parses but its checksum no longer matches.
 */
export function damaged(
  files: Readonly<Record<string, Uint8Array>>,
  pick: (path: string) => boolean,
): Record<string, Uint8Array> {
  const result: Record<string, Uint8Array> = {}
  for (const [path, bytes] of Object.entries(files)) {
    if (!pick(path)) {
      result[path] = bytes
      continue
    }
    const copy = bytes.slice()
    let at = copy.length - 1
    while (at >= 0 && !isLowerCaseLetter(copy[at] ?? 0)) at--
    if (at < 0) throw new Error(`nothing to damage in ${path}`)
    copy[at] = (copy[at] ?? 0) ^ 0x20
    result[path] = copy
  }
  return result
}

const isLowerCaseLetter = (byte: number) => byte >= 0x61 && byte <= 0x7a
