import fsSync, { mkdtempSync, statSync } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { toSaveflowError } from '../../src/core/errors'
import { createRepository } from '../../src/core/repository'
import type { StorageBackend } from '../../src/core/storage'
import { createFsStorage, type FsPromises } from '../../src/node'

let root: string
const cleanup: string[] = []

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'saveflow-fs-'))
  cleanup.push(root)
})

afterEach(async () => {
  vi.restoreAllMocks()
  for (const dir of cleanup.splice(0)) await fsp.rm(dir, { recursive: true, force: true })
})

const modeOf = (path: string) => statSync(path).mode & 0o777
const read = (path: string) => fsSync.readFileSync(join(root, path), 'utf8')
const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  )

/** An fs module that records every folder fsync and lets a test change how files behave. */
function watchedFs(overrides: Partial<FsPromises> = {}) {
  const dirSyncs: string[] = []
  const fs: FsPromises = {
    ...fsp,
    open: (async (path: fsSync.PathLike, flags?: string | number, mode?: fsSync.Mode) => {
      const handle = await fsp.open(path, flags, mode)
      if ((await handle.stat()).isDirectory()) {
        const sync = handle.sync.bind(handle)
        handle.sync = async () => {
          dirSyncs.push(String(path))
          return sync()
        }
      }
      return handle
    }) as FsPromises['open'],
    ...overrides,
  }
  return { fs, dirSyncs }
}

describe('createFsStorage', () => {
  it('replaces a file atomically with mode 0600 in folders with mode 0700', async () => {
    const storage = createFsStorage(root)
    await storage.writeAtomic('conversations/deep/c1.json', '{"a":1}')
    expect(read('conversations/deep/c1.json')).toBe('{"a":1}')
    expect(modeOf(join(root, 'conversations/deep/c1.json'))).toBe(0o600)
    expect(modeOf(join(root, 'conversations'))).toBe(0o700)
    expect(modeOf(join(root, 'conversations/deep'))).toBe(0o700)

    fsSync.chmodSync(join(root, 'conversations/deep/c1.json'), 0o644)
    await storage.writeAtomic('conversations/deep/c1.json', new TextEncoder().encode('{"a":2}'))
    expect(read('conversations/deep/c1.json')).toBe('{"a":2}')
    expect(modeOf(join(root, 'conversations/deep/c1.json'))).toBe(0o600)
  })

  it('fsyncs the folder after the rename, and the parent of each folder it creates', async () => {
    const { fs, dirSyncs } = watchedFs()
    const storage = createFsStorage(root, { fs })
    await storage.writeAtomic('a/b/doc.json', 'x')
    expect(dirSyncs).toEqual([root, join(root, 'a'), join(root, 'a/b')])
    dirSyncs.length = 0
    await storage.writeAtomic('a/b/doc.json', 'y')
    expect(dirSyncs).toEqual([join(root, 'a/b')])
  })

  it('skips folder fsyncs on Windows, where a folder cannot be opened for it', async () => {
    const { fs, dirSyncs } = watchedFs()
    const storage = createFsStorage(root, { fs, platform: 'win32' })
    await storage.writeAtomic('a/doc.json', 'x')
    await storage.append('a/log.jsonl', 'x')
    expect(dirSyncs).toEqual([])
    expect(read('a/doc.json')).toBe('x')
  })

  it('writes all the bytes even when the system writes only a few at a time', async () => {
    const fs: FsPromises = {
      ...fsp,
      open: (async (path: fsSync.PathLike, flags?: string | number, mode?: fsSync.Mode) => {
        const handle = await fsp.open(path, flags, mode)
        const write = handle.write.bind(handle) as (...args: unknown[]) => Promise<{ bytesWritten: number }>
        // A short write, as write(2) returns on a filling disk: at most 3 bytes per call.
        handle.write = ((buffer: Uint8Array, offset: number, length: number, position: number | null) =>
          write(buffer, offset, Math.min(length, 3), position)) as typeof handle.write
        return handle
      }) as FsPromises['open'],
    }
    const storage = createFsStorage(root, { fs })
    const text = `{"text":"${'é😀x'.repeat(1000)}"}`
    await storage.writeAtomic('doc.json', text)
    expect(read('doc.json')).toBe(text)
    await storage.append('log.jsonl', 'abcdefghij\n')
    await storage.append('log.jsonl', 'klmnopqrst\n')
    expect(read('log.jsonl')).toBe('abcdefghij\nklmnopqrst\n')
  })

  it('discards the temp file when writing it fails, and keeps the old file', async () => {
    const fs: FsPromises = {
      ...fsp,
      open: (async (path: fsSync.PathLike, flags?: string | number, mode?: fsSync.Mode) => {
        const handle = await fsp.open(path, flags, mode)
        handle.write = (async () => {
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
        }) as typeof handle.write
        return handle
      }) as FsPromises['open'],
    }
    await createFsStorage(root).writeAtomic('doc.json', 'old')
    const storage = createFsStorage(root, { fs })
    const error = await errorOf(storage.writeAtomic('doc.json', 'new'))
    expect(toSaveflowError(error)).toMatchObject({ code: 'disk-full', sysCode: 'ENOSPC' })
    expect(read('doc.json')).toBe('old')
    expect(await storage.listTempFiles()).toEqual([])
    expect(fsSync.readdirSync(root)).toEqual(['doc.json'])
  })

  it('discards the temp file when the fsync fails, and the next write starts from a new one', async () => {
    const storage = createFsStorage(root)
    await storage.writeAtomic('doc.json', 'old')
    const fsync = vi.spyOn(fsSync, 'fsync').mockImplementationOnce(((_fd: number, cb: (e: Error) => void) => {
      cb(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }))
    }) as typeof fsSync.fsync)
    const error = await errorOf(storage.writeAtomic('doc.json', 'new'))
    expect(toSaveflowError(error)).toMatchObject({ code: 'io', sysCode: 'EIO' })
    expect(fsync).toHaveBeenCalledTimes(1)
    expect(read('doc.json')).toBe('old')
    expect(fsSync.readdirSync(root)).toEqual(['doc.json'])
    await storage.writeAtomic('doc.json', 'new')
    expect(read('doc.json')).toBe('new')
  })

  it('aborts before the rename and leaves nothing behind', async () => {
    const storage = createFsStorage(root)
    await storage.writeAtomic('doc.json', 'old')
    const early = new AbortController()
    early.abort()
    expect(
      toSaveflowError(await errorOf(storage.writeAtomic('doc.json', 'x', { signal: early.signal }))).code,
    ).toBe('aborted')
    const late = new AbortController()
    const fs: FsPromises = {
      ...fsp,
      open: (async (path: fsSync.PathLike, flags?: string | number, mode?: fsSync.Mode) => {
        if (String(path).includes('doc.json.')) late.abort()
        return fsp.open(path, flags, mode)
      }) as FsPromises['open'],
    }
    const watched = createFsStorage(root, { fs })
    expect(
      toSaveflowError(await errorOf(watched.writeAtomic('doc.json', 'x', { signal: late.signal }))).code,
    ).toBe('aborted')
    expect(read('doc.json')).toBe('old')
    expect(fsSync.readdirSync(root)).toEqual(['doc.json'])
  })

  it('appends durably: 0600, folder fsynced only when the file is created', async () => {
    const { fs, dirSyncs } = watchedFs()
    const storage = createFsStorage(root, { fs })
    await storage.append('j/log.jsonl', 'one\n')
    expect(dirSyncs).toEqual([root, join(root, 'j')])
    await storage.append('j/log.jsonl', 'two\n')
    expect(dirSyncs).toEqual([root, join(root, 'j')])
    expect(read('j/log.jsonl')).toBe('one\ntwo\n')
    expect(modeOf(join(root, 'j/log.jsonl'))).toBe(0o600)
    await storage.truncate('j/log.jsonl', 4)
    expect(read('j/log.jsonl')).toBe('one\n')
  })

  it('aborts an append before the file is opened and leaves the file as it was', async () => {
    const storage = createFsStorage(root)
    await storage.append('log.jsonl', 'one\n')
    const early = new AbortController()
    early.abort()
    expect(
      toSaveflowError(await errorOf(storage.append('log.jsonl', 'two\n', { signal: early.signal }))).code,
    ).toBe('aborted')
    const late = new AbortController()
    const fs: FsPromises = {
      ...fsp,
      // The folder check is the last step before the file is opened: abort while it runs.
      mkdir: (async (...args: Parameters<typeof fsp.mkdir>) => {
        late.abort()
        return fsp.mkdir(...args)
      }) as FsPromises['mkdir'],
    }
    const watched = createFsStorage(root, { fs })
    expect(
      toSaveflowError(await errorOf(watched.append('log.jsonl', 'two\n', { signal: late.signal }))).code,
    ).toBe('aborted')
    expect(read('log.jsonl')).toBe('one\n')
    expect(fsSync.readdirSync(root)).toEqual(['log.jsonl'])
  })

  it('checks the size before reading, and maps a missing file and a folder', async () => {
    let reads = 0
    const fs: FsPromises = {
      ...fsp,
      open: (async (path: fsSync.PathLike, flags?: string | number, mode?: fsSync.Mode) => {
        const handle = await fsp.open(path, flags, mode)
        const original = handle.read.bind(handle) as (...args: unknown[]) => Promise<unknown>
        handle.read = ((...args: unknown[]) => {
          reads++
          return original(...args)
        }) as typeof handle.read
        return handle
      }) as FsPromises['open'],
    }
    const storage = createFsStorage(root, { fs })
    await storage.writeAtomic('big.json', 'x'.repeat(1000))
    const error = toSaveflowError(await errorOf(storage.read('big.json', { maxBytes: 999 })))
    expect(error).toMatchObject({ code: 'too-large', details: { size: 1000, maxBytes: 999 } })
    expect(reads).toBe(0)
    expect(new TextDecoder().decode(await storage.read('big.json', { maxBytes: 1000 }))).toHaveLength(1000)
    expect(toSaveflowError(await errorOf(storage.read('none.json', { maxBytes: 9 }))).code).toBe('not-found')
    await storage.writeAtomic('dir/x.json', '1')
    expect(((await errorOf(storage.read('dir', { maxBytes: 9 }))) as { code: string }).code).toBe('EISDIR')
  })

  it('stats, lists and removes', async () => {
    const storage = createFsStorage(root)
    await storage.writeAtomic('a/x.json', '12345')
    expect(await storage.stat('a/x.json')).toMatchObject({ size: 5, isDirectory: false })
    expect(await storage.stat('a')).toMatchObject({ size: 0, isDirectory: true })
    expect(await storage.stat('a/none.json')).toBeNull()
    expect(await storage.stat('a/x.json/deeper')).toBeNull()
    expect(await storage.list('')).toEqual([{ name: 'a', isDirectory: true }])
    expect(await storage.list('missing')).toEqual([])
    await storage.remove('a/x.json')
    await storage.remove('a/x.json')
    expect(await storage.list('a')).toEqual([])
  })

  it('hard-links a backup, never overwrites one, and copies when links are refused', async () => {
    const storage = createFsStorage(root)
    await storage.writeAtomic('doc.json', 'v1')
    expect(await storage.linkOrCopy('doc.json', 'bk/1.json')).toBe('link')
    expect(statSync(join(root, 'bk/1.json')).nlink).toBe(2)
    await storage.writeAtomic('doc.json', 'v2')
    expect(read('bk/1.json')).toBe('v1')
    expect(((await errorOf(storage.linkOrCopy('doc.json', 'bk/1.json'))) as { code: string }).code).toBe(
      'EEXIST',
    )

    const { fs, dirSyncs } = watchedFs({
      link: async () => {
        throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' })
      },
    })
    const noLinks = createFsStorage(root, { fs })
    expect(await noLinks.linkOrCopy('doc.json', 'bk/2.json')).toBe('copy')
    expect(read('bk/2.json')).toBe('v2')
    expect(statSync(join(root, 'bk/2.json')).nlink).toBe(1)
    expect(modeOf(join(root, 'bk/2.json'))).toBe(0o600)
    expect(dirSyncs).toContain(join(root, 'bk'))
    expect(((await errorOf(noLinks.linkOrCopy('doc.json', 'bk/2.json'))) as { code: string }).code).toBe(
      'EEXIST',
    )
    expect(await noLinks.listTempFiles()).toEqual([])
  })

  it('surfaces EXDEV from a rename instead of copying and deleting', async () => {
    const elsewhere = mkdtempSync(join(onOtherDevice() ?? tmpdir(), 'saveflow-xdev-'))
    cleanup.push(elsewhere)
    fsSync.mkdirSync(join(root, '.saveflow'), { recursive: true })
    fsSync.symlinkSync(elsewhere, join(root, '.saveflow/quarantine'))
    const fs: FsPromises | undefined =
      onOtherDevice() === null
        ? {
            ...fsp,
            // No second file system on this machine: simulate what rename(2) does across devices.
            rename: async (from, to) => {
              if (String(to).includes('quarantine')) {
                throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' })
              }
              return fsp.rename(from, to)
            },
          }
        : undefined
    const storage = createFsStorage(root, fs === undefined ? {} : { fs })
    await storage.writeAtomic('project.json', 'bad')
    const error = await errorOf(storage.rename('project.json', '.saveflow/quarantine/project.json'))
    expect((error as { code: string }).code).toBe('EXDEV')
    expect(toSaveflowError(error)).toMatchObject({ code: 'io', sysCode: 'EXDEV' })
    expect(read('project.json')).toBe('bad')
    expect(fsSync.readdirSync(elsewhere)).toEqual([])

    const repo = createRepository({ storage })
    await expect(repo.quarantine('project', 'corrupt')).rejects.toMatchObject({
      code: 'io',
      sysCode: 'EXDEV',
    })
    expect(read('project.json')).toBe('bad')
  })

  it('finds and removes the temp files a crash left, and nothing else', async () => {
    const files = [
      'project.json',
      'project.json.3172581023',
      'conversations/c1.json',
      'conversations/c1.json.77',
      '.saveflow/backups/project/20260115T100000000Z-r1.json',
      '.saveflow/backups/project/20260115T100000000Z-r1.json.12',
      '.saveflow/lock',
      'notes.2024',
    ]
    for (const file of files) {
      fsSync.mkdirSync(join(root, file, '..'), { recursive: true })
      fsSync.writeFileSync(join(root, file), 'x')
    }
    const storage = createFsStorage(root)
    const temps = [
      '.saveflow/backups/project/20260115T100000000Z-r1.json.12',
      'conversations/c1.json.77',
      'project.json.3172581023',
    ]
    expect(await storage.listTempFiles()).toEqual(temps)
    expect(await storage.removeTempFiles()).toEqual(temps)
    expect(await storage.listTempFiles()).toEqual([])
    for (const file of files.filter((f) => !temps.includes(f))) expect(read(file)).toBe('x')
  })

  it('refuses paths that leave the workspace, and a relative root', async () => {
    const storage: StorageBackend = createFsStorage(root)
    for (const bad of ['../escape.json', '/etc/passwd', 'a/../../b.json', 'nul\0.json']) {
      expect(toSaveflowError(await errorOf(storage.writeAtomic(bad, 'x'))).code).toBe('invalid-id')
      expect(toSaveflowError(await errorOf(storage.rename('x.json', bad))).code).toBe('invalid-id')
    }
    expect(fsSync.readdirSync(join(root, '..')).includes('escape.json')).toBe(false)
    expect(() => createFsStorage('relative/dir')).toThrow(expect.objectContaining({ code: 'invalid-id' }))
  })
})

/** A writable folder on another file system than the temp folder, or `null` (then EXDEV is simulated). */
function onOtherDevice(): string | null {
  try {
    const shm = '/dev/shm'
    fsSync.accessSync(shm, fsSync.constants.W_OK)
    return statSync(shm).dev !== statSync(tmpdir()).dev ? shm : null
  } catch {
    return null
  }
}
