import { describe, expect, it, vi } from 'vitest'
import { toSaveflowError } from '../../src/core/errors'
import { createFaultyStorage, createMemoryStorage } from '../../src/testing'

describe('createFaultyStorage', () => {
  it('runs a script over the saving calls: the first save fails, the next succeeds', async () => {
    const inner = createMemoryStorage()
    const storage = createFaultyStorage(inner, ['EACCES', 'ok'])
    const error = await storage.writeAtomic('doc.json', 'a').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'EACCES', errno: -13, syscall: 'write', path: 'doc.json' })
    expect(toSaveflowError(error).code).toBe('permission-denied')
    // Reads do not consume the script.
    expect(await storage.stat('doc.json')).toBeNull()
    await storage.writeAtomic('doc.json', 'b')
    await storage.writeAtomic('doc.json', 'c')
    expect(inner.readText('doc.json')).toBe('c')
    expect(storage.script).toEqual([])
    expect(storage.calls.map((c) => c.fault)).toEqual(['EACCES', null, null, null])
  })

  it('fails matching calls by rule, a given number of times, after skipping some', async () => {
    const inner = createMemoryStorage()
    const storage = createFaultyStorage(inner, [
      { op: 'writeAtomic', path: /project/, code: 'ENOSPC', times: 2, skip: 1 },
    ])
    await storage.writeAtomic('project.json', '1')
    await expect(storage.writeAtomic('project.json', '2')).rejects.toMatchObject({ code: 'ENOSPC' })
    await storage.writeAtomic('settings.json', 's')
    await expect(storage.writeAtomic('project.json', '3')).rejects.toMatchObject({ code: 'ENOSPC' })
    await storage.writeAtomic('project.json', '4')
    expect(inner.readText('project.json')).toBe('4')
    expect(storage.rules()[0]).toMatchObject({ seen: 4, used: 2 })
  })

  it('matches either path of a rename or link, by substring or pattern', async () => {
    const inner = createMemoryStorage({ files: { 'a.json': 'A' } })
    const storage = createFaultyStorage(inner, [
      { op: ['rename', 'linkOrCopy'], path: 'quarantine', code: 'EXDEV' },
    ])
    await expect(storage.rename('a.json', '.saveflow/quarantine/a.json')).rejects.toMatchObject({
      code: 'EXDEV',
    })
    await expect(storage.linkOrCopy('a.json', '.saveflow/quarantine/b.json')).rejects.toMatchObject({
      code: 'EXDEV',
    })
    expect(await storage.linkOrCopy('a.json', 'b.json')).toBe('link')
  })

  it('carries a call out and then reports the error when the fault comes after', async () => {
    const inner = createMemoryStorage({ files: { 'doc.json': 'old' } })
    const storage = createFaultyStorage(inner, [{ op: 'writeAtomic', code: 'EIO', when: 'after', times: 1 }])
    await expect(storage.writeAtomic('doc.json', 'new')).rejects.toMatchObject({ code: 'EIO' })
    expect(inner.readText('doc.json')).toBe('new')
  })

  it('adds latency through the given sleep, and delay-only rules raise nothing', async () => {
    const sleep = vi.fn(async () => {})
    const storage = createFaultyStorage(createMemoryStorage(), [{ op: 'stat', delayMs: 250 }], { sleep })
    expect(await storage.stat('x.json')).toBeNull()
    expect(sleep).toHaveBeenCalledWith(250, undefined)
    expect(storage.calls[0]).toMatchObject({ op: 'stat', fault: null, delayMs: 250 })
  })

  it('cancels a delayed write when its signal aborts', async () => {
    vi.useFakeTimers()
    try {
      const inner = createMemoryStorage()
      const storage = createFaultyStorage(inner, [{ op: 'writeAtomic', delayMs: 10_000 }])
      const controller = new AbortController()
      const pending = storage
        .writeAtomic('doc.json', 'x', { signal: controller.signal })
        .catch((e: unknown) => e)
      controller.abort()
      expect(toSaveflowError(await pending).code).toBe('aborted')
      expect(inner.readText('doc.json')).toBeUndefined()
    } finally {
      vi.useRealTimers()
    }
  })

  it('cancels a delayed append when its signal aborts', async () => {
    vi.useFakeTimers()
    try {
      const inner = createMemoryStorage({ files: { 'log.jsonl': 'one\n' } })
      const storage = createFaultyStorage(inner, [{ op: 'append', delayMs: 10_000 }])
      const controller = new AbortController()
      const pending = storage
        .append('log.jsonl', 'two\n', { signal: controller.signal })
        .catch((e: unknown) => e)
      controller.abort()
      expect(toSaveflowError(await pending).code).toBe('aborted')
      expect(inner.readText('log.jsonl')).toBe('one\n')
    } finally {
      vi.useRealTimers()
    }
  })

  it('switches faults at run time and tells subscribers', async () => {
    const storage = createFaultyStorage(createMemoryStorage())
    const listener = vi.fn()
    const unsubscribe = storage.subscribe(listener)
    const id = storage.addRule({ code: 'EBUSY' })
    await expect(storage.list('')).rejects.toMatchObject({ code: 'EBUSY' })
    storage.enabled = false
    expect(await storage.list('')).toEqual([])
    storage.enabled = true
    storage.removeRule(id)
    expect(await storage.list('')).toEqual([])
    storage.setScript(['EROFS'])
    await expect(storage.append('j.jsonl', 'x')).rejects.toMatchObject({ code: 'EROFS' })
    storage.addRule({ code: 'EIO' })
    storage.clear()
    expect(storage.rules()).toEqual([])
    expect(await storage.listTempFiles()).toEqual([])
    unsubscribe()
    storage.addRule({ code: 'EIO' })
    // addRule, the faulted list, enabled off, enabled on, removeRule, setScript, faulted append, addRule, clear.
    expect(listener).toHaveBeenCalledTimes(9)
  })
})
