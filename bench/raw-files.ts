/**
 * The raw reference laid out as saveflow lays out a workspace: one file per document (`project.json`,
 * `settings.json`, `conversations/<id>.json`), each `JSON.stringify` + write-file-atomic (fsync, rename) + a folder
 * fsync, two writes in flight as saveflow's default `maxConcurrentWrites`. It separates what saveflow adds from what
 * the layout costs.
 */
import { mkdir, open, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import type { SampleWorkspace } from '../src/core/sample-data'

/** The documents of a sample as (relative path, data) pairs. */
export function documentsOf(sample: SampleWorkspace): Array<[string, unknown]> {
  return [
    ['settings.json', sample.settings],
    ['project.json', sample.project],
    ...sample.conversations.map((c): [string, unknown] => [`conversations/${c.id}.json`, c]),
  ]
}

async function fsyncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/** Writes every document durably, two at a time. */
export async function rawFilesSave(dir: string, docs: ReadonlyArray<[string, unknown]>): Promise<void> {
  await mkdir(join(dir, 'conversations'), { recursive: true })
  await pool(docs, 2, async ([path, data]) => {
    const file = join(dir, path)
    await writeFileAtomic(file, JSON.stringify(data), { fsync: true })
    await fsyncFolder(dirname(file))
  })
}

/** Reads and parses every document, all at once (as saveflow opens its conversations). */
export async function rawFilesLoad(dir: string, paths: readonly string[]): Promise<unknown[]> {
  return Promise.all(
    paths.map(async (path) => JSON.parse(await readFile(join(dir, path), 'utf8')) as unknown),
  )
}
