import { describe, expect, it } from 'vitest'
import { isSaveflowError, toSaveflowError } from '../../src/core/errors'
import { createMemoryStorage, systemError } from '../../src/testing'

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes)

describe('createMemoryStorage', () => {
  it('round-trips files written atomically and lists folders', async () => {
    const storage = createMemoryStorage()
    await storage.writeAtomic('a/b/c.json', '{"x":1}')
    await storage.writeAtomic('top.json', new TextEncoder().encode('[]'))
    expect(text(await storage.read('a/b/c.json', { maxBytes: 100 }))).toBe('{"x":1}')
    expect(await storage.list('')).toEqual(
      expect.arrayContaining([
        { name: 'a', isDirectory: true },
        { name: 'top.json', isDirectory: false },
      ]),
    )
    expect(await storage.list('a')).toEqual([{ name: 'b', isDirectory: true }])
    expect(await storage.list('missing')).toEqual([])
    expect(await storage.stat('a/b/c.json')).toMatchObject({ size: 7, isDirectory: false })
    expect(await storage.stat('a')).toMatchObject({ isDirectory: true })
    expect(await storage.stat('nope.json')).toBeNull()
  })

  it('refuses a read over the limit before reading, and reports a missing file as ENOENT', async () => {
    const storage = createMemoryStorage({ files: { 'big.json': 'x'.repeat(50) } })
    const tooLarge = await storage.read('big.json', { maxBytes: 49 }).catch((e: unknown) => e)
    expect(isSaveflowError(tooLarge) && tooLarge.code).toBe('too-large')
    const missing = await storage.read('none.json', { maxBytes: 10 }).catch((e: unknown) => e)
    expect((missing as { code: string }).code).toBe('ENOENT')
  })

  it('rejects unsafe paths before touching anything', async () => {
    const storage = createMemoryStorage()
    for (const bad of [
      '../x.json',
      '/abs.json',
      'a//b.json',
      'a/./b.json',
      'nul\0.json',
      'C:/x.json',
      'a\\b.json',
    ]) {
      const error = await storage.writeAtomic(bad, 'x').catch((e: unknown) => e)
      expect(toSaveflowError(error).code).toBe('invalid-id')
    }
    expect(storage.log).toEqual([])
  })

  it('logs a replace as create, write, fsync, rename and folder fsync', async () => {
    const storage = createMemoryStorage({ files: { 'doc.json': 'old' } })
    await storage.writeAtomic('doc.json', 'new')
    expect(storage.log.map((op) => op.step)).toEqual(['create', 'write', 'fsync', 'rename', 'fsync-dir'])
    expect(storage.log.every((op) => op.call === 'writeAtomic' && op.callId === storage.log[0]!.callId)).toBe(
      true,
    )
    expect(storage.log[3]).toMatchObject({ path: 'doc.json.1', to: 'doc.json' })
  })

  it('keeps the old file when a crash comes before the folder fsync', async () => {
    const storage = createMemoryStorage({ files: { 'doc.json': 'old' } })
    await storage.writeAtomic('doc.json', 'new')
    const states = storage.log.map((_, i) => text(storage.crashAfter(i + 1).files()['doc.json']))
    // create, write, fsync, rename: the rename is not durable until the folder fsync.
    expect(states).toEqual(['old', 'old', 'old', 'old', 'new'])
    expect(Object.keys(storage.crashAfter(3).files())).toEqual(['doc.json'])
  })

  it('leaves an unsynced directory entry behind when asked to keep entries', async () => {
    const storage = createMemoryStorage({ files: { 'doc.json': 'old' } })
    await storage.writeAtomic('doc.json', 'new')
    const afterFsync = storage.crashAfter(3, { entries: 'keep' }).files()
    expect(Object.keys(afterFsync).sort()).toEqual(['doc.json', 'doc.json.1'])
    expect(text(afterFsync['doc.json.1'])).toBe('new')
    // Kept entry, unsynced data: the temp file survives empty (the data was not fsynced yet).
    expect(text(storage.crashAfter(2, { entries: 'keep' }).files()['doc.json.1'])).toBe('')
  })

  it('makes new folders durable only with their parent', async () => {
    const storage = createMemoryStorage()
    await storage.writeAtomic('deep/er/doc.json', 'x')
    expect(storage.log.map((op) => `${op.step} ${op.path}`)).toEqual([
      'mkdir deep',
      'fsync-dir ',
      'mkdir deep/er',
      'fsync-dir deep',
      'create deep/er/doc.json.1',
      'write deep/er/doc.json.1',
      'fsync deep/er/doc.json.1',
      'rename deep/er/doc.json.1',
      'fsync-dir deep/er',
    ])
    expect(storage.crashAfter(9).files()).toHaveProperty('deep/er/doc.json')
    expect(storage.crashAfter(8).files()).toEqual({})
  })

  it('keeps a prefix of an unsynced append after a crash', async () => {
    const storage = createMemoryStorage({ files: { 'log.jsonl': 'aaaa\n' } })
    storage.setStepHook((step) => {
      if (step.step === 'fsync') throw systemError('EIO', 'fsync', step.path)
    })
    await expect(storage.append('log.jsonl', 'bbbbbbbb\n')).rejects.toMatchObject({ code: 'EIO' })
    storage.setStepHook(null)
    expect(storage.readText('log.jsonl')).toBe('aaaa\nbbbbbbbb\n')
    storage.crash({ appendedBytes: (n) => n - 3 })
    expect(storage.readText('log.jsonl')).toBe('aaaa\nbbbbbb')
  })

  it('makes a synced append durable, and a created log file durable with its folder', async () => {
    const storage = createMemoryStorage()
    await storage.append('j/log.jsonl', 'one\n')
    await storage.append('j/log.jsonl', 'two\n')
    expect(storage.log.filter((op) => op.step === 'fsync-dir').map((op) => op.path)).toEqual(['', 'j'])
    storage.crash()
    expect(storage.readText('j/log.jsonl')).toBe('one\ntwo\n')
  })

  it('loses an unlink and a rename that were never made durable', async () => {
    const storage = createMemoryStorage({ files: { 'a.json': 'A', 'b.json': 'B' } })
    storage.setStepHook((step) => {
      if (step.step === 'fsync-dir') throw systemError('EIO', 'fsync', step.path)
    })
    await expect(storage.remove('a.json')).rejects.toMatchObject({ code: 'EIO' })
    await expect(storage.rename('b.json', 'c.json')).rejects.toMatchObject({ code: 'EIO' })
    expect(Object.keys(storage.files())).toEqual(['c.json'])
    expect(Object.keys(storage.durableFiles())).toEqual(['a.json', 'b.json'])
    storage.crash()
    expect(Object.keys(storage.files())).toEqual(['a.json', 'b.json'])
  })

  it('discards the temp file of a replace that fails, so the next one starts fresh', async () => {
    const storage = createMemoryStorage({ files: { 'doc.json': 'old' } })
    let failing = true
    storage.setStepHook((step) => {
      if (failing && step.step === 'fsync') throw systemError('ENOSPC', 'fsync', step.path)
    })
    await expect(storage.writeAtomic('doc.json', 'new')).rejects.toMatchObject({ code: 'ENOSPC' })
    expect(await storage.listTempFiles()).toEqual([])
    expect(storage.readText('doc.json')).toBe('old')
    failing = false
    await storage.writeAtomic('doc.json', 'new')
    const creates = storage.log.filter((op) => op.step === 'create').map((op) => op.path)
    expect(creates).toEqual(['doc.json.1', 'doc.json.2'])
    expect(storage.readText('doc.json')).toBe('new')
  })

  it('aborts a replace before the rename and leaves the target alone', async () => {
    const storage = createMemoryStorage({ files: { 'doc.json': 'old' } })
    const controller = new AbortController()
    storage.setStepHook((step) => {
      if (step.step === 'fsync') controller.abort()
    })
    const error = await storage.writeAtomic('doc.json', 'new', { signal: controller.signal }).catch((e) => e)
    expect(toSaveflowError(error).code).toBe('aborted')
    expect(storage.readText('doc.json')).toBe('old')
    expect(await storage.listTempFiles()).toEqual([])
  })

  it('hard-links, or copies when links are off, and never overwrites the second name', async () => {
    const linked = createMemoryStorage({ files: { 'doc.json': 'v1' } })
    expect(await linked.linkOrCopy('doc.json', 'bk/1.json')).toBe('link')
    await linked.writeAtomic('doc.json', 'v2')
    expect(linked.readText('bk/1.json')).toBe('v1')
    await expect(linked.linkOrCopy('doc.json', 'bk/1.json')).rejects.toMatchObject({ code: 'EEXIST' })

    const copied = createMemoryStorage({ files: { 'doc.json': 'v1' }, hardLinks: false })
    expect(await copied.linkOrCopy('doc.json', 'bk/1.json')).toBe('copy')
    expect(copied.readText('bk/1.json')).toBe('v1')
    expect(copied.log.some((op) => op.step === 'link')).toBe(false)
  })

  it('truncates durably and removes temp files left by a crash', async () => {
    const storage = createMemoryStorage({
      files: { 'j.jsonl': 'abcdef', 'x/doc.json.77': 'tmp', 'x/doc.json': 'd' },
    })
    await storage.truncate('j.jsonl', 2)
    storage.crash()
    expect(storage.readText('j.jsonl')).toBe('ab')
    expect(await storage.listTempFiles()).toEqual(['x/doc.json.77'])
    expect(await storage.removeTempFiles()).toEqual(['x/doc.json.77'])
    storage.crash()
    expect(Object.keys(storage.files()).sort()).toEqual(['j.jsonl', 'x/doc.json'])
  })

  it('crashAfter(0) is the state when the log was cleared, and bad step numbers are refused', async () => {
    const storage = createMemoryStorage({ files: { 'doc.json': 'v1' } })
    await storage.writeAtomic('doc.json', 'v2')
    storage.clearLog()
    await storage.writeAtomic('doc.json', 'v3')
    expect(storage.crashAfter(0).readText('doc.json')).toBe('v2')
    expect(() => storage.crashAfter(99)).toThrow(/No step 99/)
    expect(() => createMemoryStorage({ record: false }).crashAfter(0)).toThrow(/record: true/)
  })

  it('forks a copy that changes independently', async () => {
    const storage = createMemoryStorage({ files: { 'doc.json': 'v1' } })
    const copy = storage.fork()
    await copy.writeAtomic('doc.json', 'v2')
    expect(storage.readText('doc.json')).toBe('v1')
    expect(copy.readText('doc.json')).toBe('v2')
    expect(copy.log).toHaveLength(5)
  })
})
