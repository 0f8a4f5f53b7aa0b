import { SaveflowError } from './errors'
import type { DocumentKind } from './status'

/**
 * Everything that turns a document key into a path in the workspace, and the checks that keep anything else from
 * reaching a path: a document id is validated before any path is built (DESIGN.md "Security"), and every backend
 * validates the relative paths it is given.
 */

/** What a document id (and a tree node id) may look like: letters, digits, `_` and `-`, 1 to 128 characters. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/

/** A document key: `project`, `settings`, `conversation/<id>` or `cache/<name>`. */
export type DocumentKey = 'project' | 'settings' | `conversation/${string}` | `cache/${string}`

/** Where saveflow keeps its own files inside a workspace. */
export const SAVEFLOW_DIR = '.saveflow'
/** Backups of snapshot documents: `.saveflow/backups/<key>/<timestamp>-r<revision>.json`. */
export const BACKUPS_DIR = '.saveflow/backups'
/** Files that failed verification, moved aside and never deleted. */
export const QUARANTINE_DIR = '.saveflow/quarantine'
/** Folder of the conversation documents. */
export const CONVERSATIONS_DIR = 'conversations'
/** Folder of the cache documents. */
export const CACHE_DIR = 'cache'

const MAX_PATH_LENGTH = 1024

/** Throws `invalid-id` unless `id` matches {@link ID_PATTERN}. */
export function assertDocumentId(id: string): void {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new SaveflowError('invalid-id', {
      message: `The document id ${describe(id)} is not allowed.`,
      details: { id: describe(id) },
    })
  }
}

/** A document key taken apart. `id` is set for conversations and caches. */
export interface ParsedKey {
  kind: DocumentKind
  id?: string
}

/**
 * Splits and checks a document key. Throws `invalid-id` for an unknown kind or a bad id; nothing is built from a
 * key that did not pass.
 */
export function parseDocumentKey(key: string): ParsedKey {
  if (key === 'project' || key === 'settings') return { kind: key }
  if (typeof key === 'string') {
    const slash = key.indexOf('/')
    const prefix = slash === -1 ? key : key.slice(0, slash)
    if (slash !== -1 && (prefix === 'conversation' || prefix === 'cache')) {
      const id = key.slice(slash + 1)
      assertDocumentId(id)
      return { kind: prefix, id }
    }
  }
  throw new SaveflowError('invalid-id', {
    message: `The document key ${describe(key)} is not allowed.`,
    details: { key: describe(key) },
  })
}

/** The key of a conversation document, after checking the id. */
export function conversationKey(id: string): DocumentKey {
  assertDocumentId(id)
  return `conversation/${id}`
}

/** The key of a cache document, after checking the name. */
export function cacheKey(name: string): DocumentKey {
  assertDocumentId(name)
  return `cache/${name}`
}

/** The workspace-relative file of a document (DESIGN.md "On disk"). Throws `invalid-id` for a bad key. */
export function documentPath(key: string): string {
  const { kind, id } = parseDocumentKey(key)
  switch (kind) {
    case 'project':
      return 'project.json'
    case 'settings':
      return 'settings.json'
    case 'conversation':
      return `${CONVERSATIONS_DIR}/${id}.jsonl`
    case 'cache':
      return `${CACHE_DIR}/${id}.json`
  }
}

/** The project's journal: the patches saved since `project.json` (DESIGN.md "On disk"). */
export const PROJECT_JOURNAL_PATH = 'project.journal.jsonl'

/**
 * The files a document may have besides {@link documentPath}: the project's journal, and the snapshot file an
 * earlier version wrote for a conversation (`conversations/<id>.json`, read until the first save replaces it).
 */
export function companionPaths(key: string): { journal?: string; legacy?: string } {
  const { kind, id } = parseDocumentKey(key)
  if (kind === 'project') return { journal: PROJECT_JOURNAL_PATH }
  if (kind === 'conversation') return { legacy: `${CONVERSATIONS_DIR}/${id}.json` }
  return {}
}

/** The folder holding a document's backups; the key maps one to one, so two documents never share one. */
export function backupDir(key: string): string {
  const { kind, id } = parseDocumentKey(key)
  return id === undefined ? `${BACKUPS_DIR}/${kind}` : `${BACKUPS_DIR}/${kind}/${id}`
}

/**
 * Throws `invalid-id` unless `path` is a safe workspace-relative file path: '/'-separated, not absolute, no drive
 * letter, no backslash, no NUL, no empty, `.` or `..` segment. Backends call it on every path they are given.
 */
export function assertStoragePath(path: string): void {
  if (!isSafeRelativePath(path)) {
    throw new SaveflowError('invalid-id', {
      message: `The path ${describe(path)} is not a safe workspace path.`,
      details: { path: describe(path) },
    })
  }
}

/** Like {@link assertStoragePath}, but also accepts `''`, the workspace folder itself. */
export function assertStorageDir(path: string): void {
  if (path !== '') assertStoragePath(path)
}

function isSafeRelativePath(path: unknown): boolean {
  if (typeof path !== 'string' || path.length === 0 || path.length > MAX_PATH_LENGTH) return false
  // A NUL truncates the path in C; a backslash or a drive letter escapes the workspace on Windows.
  if (path.includes('\0') || path.includes('\\') || /^[A-Za-z]:/.test(path)) return false
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
}

/** The folder part of a relative path (`''` for a file in the workspace folder). */
export function parentDir(path: string): string {
  const slash = path.lastIndexOf('/')
  return slash === -1 ? '' : path.slice(0, slash)
}

/** The last segment of a relative path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}

/** Joins a folder and a name; `''` is the workspace folder. */
export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`
}

/**
 * Temp files are `<target>.<digits>`, the name write-file-atomic gives them (`project.json.3172581023`); the memory
 * backend and the copy fallback use the same form, so one rule finds what a crash left behind.
 */
const TEMP_NAME = /\.jsonl?\.\d{1,10}$/

/** True for the name of a temp file that a crash may have left (see {@link tempPathFor}). */
export function isTempFileName(name: string): boolean {
  return TEMP_NAME.test(name)
}

/** A temp path beside `path` with the given number, in the form {@link isTempFileName} recognises. */
export function tempPathFor(path: string, n: number): string {
  return `${path}.${Math.abs(Math.trunc(n)) % 4_294_967_296}`
}

/** Quotes an untrusted value for a message without letting control characters or huge strings through. */
function describe(value: unknown): string {
  if (typeof value !== 'string') return typeof value
  const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value
  return JSON.stringify(shown)
}
