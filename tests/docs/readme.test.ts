import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { snapshotCodec } from '../../src/core/snapshot-codec'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const run = promisify(execFile)

/** The README's zustand example, exactly as a reader would paste it. */
async function readmeSnippet(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '')
  const snippet = blocks.find((block) => block.includes('bindStore(settings'))
  if (snippet === undefined) throw new Error('README.md has no zustand example')
  return snippet
}

let scratch: string | undefined

afterEach(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true })
  scratch = undefined
})

describe('README', () => {
  it('runs the zustand example as written, and the folder then holds the edit', async () => {
    // Inside the project, so `saveflow/...` resolves to this package as it does for a user's installed copy.
    scratch = await mkdtemp(join(ROOT, '.readme-'))
    const snippet = (await readmeSnippet()).replace("'./data'", JSON.stringify(join(scratch, 'data')))
    await writeFile(join(scratch, 'snippet.ts'), snippet)

    await run(process.execPath, ['--import', 'tsx', join(scratch, 'snippet.ts')], {
      cwd: ROOT,
      timeout: 60_000,
    })

    const saved = snapshotCodec.decode(await readFile(join(scratch, 'data', 'settings.json')), 'settings')
    expect(saved).toMatchObject({ kind: 'settings', data: { theme: 'dark' } })
    await expect(readFile(join(scratch, 'data', '.saveflow', 'lock'))).rejects.toMatchObject({
      code: 'ENOENT',
    })
  })
})
