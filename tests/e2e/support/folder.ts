import { createHash } from 'node:crypto'
import { appendFile, cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import nodePath from 'node:path'

/**
 * A workspace folder as a user meets it after a crash, a bad disk or another program: copies of a folder the app
 * wrote, damaged the way such things damage files, and a record of every file's bytes to show that nothing a user
 * wrote went away.
 */

const copies: string[] = []

/** A copy of the workspace folder `dir` in a new temp folder that {@link removeCopies} removes; its path. */
export async function copyWorkspace(dir: string): Promise<string> {
  const root = await mkdtemp(nodePath.join(tmpdir(), 'saveflow-e2e-copy-'))
  copies.push(root)
  const copy = nodePath.join(root, 'workspace')
  await cp(dir, copy, { recursive: true, preserveTimestamps: true })
  return copy
}

/** Removes the folders made by {@link copyWorkspace}. */
export async function removeCopies(): Promise<void> {
  for (const root of copies.splice(0)) await rm(root, { recursive: true, force: true })
}

/**
 * Puts `bytes` in place of the file at `path` by rename, as another program saving it would: a backup may be a hard
 * link to the file (saveflow never writes a file in place), and writing through that inode would damage both.
 */
async function replaceFile(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.e2e-damage`
  await writeFile(temp, bytes, { mode: 0o600 })
  await rename(temp, path)
}

/**
 * Flips one bit of the file at `path`, in the first letter of the first occurrence of `text` (its case changes):
 * the JSON still parses, only a checksum can tell. Returns the damaged bytes.
 */
export async function flipByte(path: string, text: string): Promise<Buffer> {
  const bytes = await readFile(path)
  const at = bytes.indexOf(text)
  if (at === -1) throw new Error(`"${text}" is not in ${path}`)
  bytes[at] = bytes[at]! ^ 0x20
  await replaceFile(path, bytes)
  return bytes
}

/** Appends `text` to the file at `path`, as an append that a crash cut short leaves it. Returns the damaged bytes. */
export async function appendTornTail(path: string, text: string): Promise<Buffer> {
  await appendFile(path, text)
  return readFile(path)
}

/** Every file under `dir` (relative paths, `/`-separated), sorted; the lock file left out. */
export async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = []
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === 'lock') continue
    files.push(
      nodePath.relative(dir, nodePath.join(entry.parentPath, entry.name)).split(nodePath.sep).join('/'),
    )
  }
  return files.sort()
}

const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** The contents of every file under `dir` (the lock left out), by their SHA-256, each with the paths holding it. */
export async function contentsOf(dir: string): Promise<Map<string, string[]>> {
  const contents = new Map<string, string[]>()
  for (const file of await listFiles(dir)) {
    const hash = digest(await readFile(nodePath.join(dir, file)))
    contents.set(hash, [...(contents.get(hash) ?? []), file])
  }
  return contents
}

/**
 * The files of `before` whose bytes are nowhere under `dir` now: what a repair deleted. `except` names files that
 * may go (temp files: an unfinished write, never the only copy of acknowledged data).
 */
export async function filesLost(
  before: Map<string, string[]>,
  dir: string,
  except: readonly string[] = [],
): Promise<string[]> {
  const now = await contentsOf(dir)
  const lost: string[] = []
  for (const [hash, paths] of before) {
    if (now.has(hash)) continue
    lost.push(...paths.filter((path) => !except.includes(path)))
  }
  return lost.sort()
}

/** True when the bytes of the file at `path` (relative to `dir`) are `expected`. */
export async function holds(dir: string, path: string, expected: Uint8Array): Promise<boolean> {
  return digest(await readFile(nodePath.join(dir, path))) === digest(expected)
}
