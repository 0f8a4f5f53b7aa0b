import { spawn } from 'node:child_process'
import type { Dirent } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
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
 * Saves a new revision of `key` the way the app does (validated, backed up when due, atomic). The first save after
 * `init` takes a backup: the old file keeps its inode as the backup and the new one gets a fresh inode, so damage
 * done to the primary afterwards leaves the backup intact, as on a real disk.
 */
export async function appSave(dir: string, key: string, change: (data: unknown) => unknown): Promise<void> {
  const repository = createRepository({ storage: createFsStorage(dir) })
  const loaded = await repository.load(key)
  if (!loaded.ok) throw loaded.error
  await repository.save(key, change(loaded.data), loaded.revision + 1)
}

/** Renames the project, as an edit in the app would. */
export const renameProject =
  (name: string) =>
  (data: unknown): unknown => {
    const project = data as { metadata: { name: string } }
    return { ...project, metadata: { ...project.metadata, name } }
  }

/** Flips one bit in the middle of a file, in place. */
export async function flipByte(path: string): Promise<void> {
  const bytes = await readFile(path)
  const at = Math.floor(bytes.length / 2)
  bytes[at] = bytes[at]! ^ 0x04
  await writeFile(path, bytes)
}

/** Cuts a file to half its size, in place (a torn write on a file system without atomic replace). */
export async function truncateHalf(path: string): Promise<void> {
  await truncate(path, Math.floor((await stat(path)).size / 2))
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
