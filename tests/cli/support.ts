import { spawn } from 'node:child_process'
import type { Dirent } from 'node:fs'
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRepository } from '../../src/core/repository'
import { createFsStorage } from '../../src/node/fs-backend'

/**
 * Helpers of the CLI tests: the real command run as a child process (`node --import tsx src/cli/main.ts`) against
 * real temp folders, and the app's own save path (the repository) to make the history a user's app would leave.
 */

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MAIN = join(ROOT, 'src/cli/main.ts')

/** What one run of the command gave. */
export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `saveflow <args>` and waits for it to end. */
export function saveflow(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; entry?: readonly string[] } = {},
): Promise<CliRun> {
  const entry = options.entry ?? ['--import', 'tsx', MAIN]
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Runs `saveflow <args> --json` and parses stdout. */
export async function saveflowJson<T = Record<string, unknown>>(
  args: readonly string[],
): Promise<{ code: number | null; json: T; stderr: string }> {
  const run = await saveflow([...args, '--json'])
  let json: T
  try {
    json = JSON.parse(run.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`)
  }
  return { code: run.code, json, stderr: run.stderr }
}

const folders: string[] = []

/** A new empty temp folder, removed by {@link removeTempFolders}. */
export async function tempFolder(prefix = 'saveflow-cli-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  folders.push(dir)
  return dir
}

/** For `afterEach`. */
export async function removeTempFolders(): Promise<void> {
  for (const dir of folders.splice(0)) await rm(dir, { recursive: true, force: true })
}

/** A new workspace made by `saveflow init`. */
export async function initWorkspace(sample: 'empty' | 'small' = 'small'): Promise<string> {
  const dir = join(await tempFolder(), 'ws')
  const run = await saveflow(['init', dir, '--sample', sample])
  if (run.code !== 0) throw new Error(`init failed (${run.code}): ${run.stderr}`)
  return dir
}

/**
 * Saves a new revision of `key` the way the app does (validated, backed up when due, durable). The first save after
 * `init` takes a backup of revision 1, so a test has a valid backup to recover from.
 */
export async function appSave(dir: string, key: string, change: (data: unknown) => unknown): Promise<void> {
  const repository = createRepository({ storage: createFsStorage(dir) })
  const loaded = await repository.load(key)
  if (!loaded.ok) throw loaded.error
  await repository.save(key, change(loaded.data), loaded.revision + 1)
}

/** The data of `key` as the app loads it (whatever the file layout); throws the load error. */
export async function loadData(dir: string, key: string): Promise<unknown> {
  const loaded = await createRepository({ storage: createFsStorage(dir) }).load(key)
  if (!loaded.ok) throw loaded.error
  return loaded.data
}

/** Renames the project, as an edit in the app would. */
export const renameProject =
  (name: string) =>
  (data: unknown): unknown => {
    const project = data as { metadata: { name: string } }
    return { ...project, metadata: { ...project.metadata, name } }
  }

/**
 * Replaces a file with `bytes` under a new inode. Backups may be hard links of the file they were taken from (that
 * is how a backup costs nothing), so damage written into the same inode would hit the backup too; the tests damage
 * the document the way a torn or misbehaving writer does, by a new file in its place.
 */
export async function replaceFile(path: string, bytes: Uint8Array): Promise<void> {
  await writeFile(`${path}.damage`, bytes)
  await rename(`${path}.damage`, path)
}

/** Flips one bit in the middle of a file. */
export async function flipByte(path: string): Promise<void> {
  const bytes = await readFile(path)
  const at = Math.floor(bytes.length / 2)
  bytes[at] = bytes[at]! ^ 0x04
  await replaceFile(path, bytes)
}

/** Cuts a file to half its size. */
export async function truncateHalf(path: string): Promise<void> {
  const bytes = await readFile(path)
  await replaceFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)))
}

/** Every file under `dir`, workspace-relative, sorted. */
export async function listFiles(dir: string, sub = ''): Promise<string[]> {
  const out: string[] = []
  let entries: Dirent[]
  try {
    entries = await readdir(join(dir, sub), { withFileTypes: true })
  } catch {
    return out
  }
  for (const entry of entries) {
    const path = sub === '' ? entry.name : `${sub}/${entry.name}`
    if (entry.isDirectory()) out.push(...(await listFiles(dir, path)))
    else out.push(path)
  }
  return out.sort()
}
