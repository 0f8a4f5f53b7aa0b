import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { acquireWorkspaceLock, type LockHolder, type WorkspaceLock } from '../../src/node/workspace-lock'
import { type Child, deadPid, killAllFixtures, startFixture } from './fixtures/child-process'

let dir: string
const locks: WorkspaceLock[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'saveflow-lock-'))
})

afterEach(async () => {
  await killAllFixtures()
  for (const lock of locks.splice(0)) if (lock.mode === 'write') await lock.release()
  await rm(dir, { recursive: true, force: true })
})

async function acquire(options: Parameters<typeof acquireWorkspaceLock>[1] = {}) {
  const lock = await acquireWorkspaceLock(dir, options)
  locks.push(lock)
  return lock
}

async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve))
}

const lockPath = () => join(dir, '.saveflow', 'lock')

async function readHolder(): Promise<LockHolder> {
  return JSON.parse(await readFile(lockPath(), 'utf8')) as LockHolder
}

async function writeHolder(holder: Partial<LockHolder>): Promise<void> {
  await mkdir(join(dir, '.saveflow'), { recursive: true })
  await writeFile(
    lockPath(),
    JSON.stringify({
      pid: 999_999,
      host: 'elsewhere',
      startedAt: Date.now(),
      heartbeatAt: Date.now(),
      token: 'theirs',
      ...holder,
    }),
  )
}

interface HolderLine {
  result: WorkspaceLock['mode']
  pid: number
}

async function holderLine(child: Child): Promise<HolderLine> {
  return JSON.parse(await child.line((line) => line.startsWith('{'))) as HolderLine
}

describe('acquireWorkspaceLock', () => {
  it('takes a free workspace: a 0600 lock file in a 0700 folder naming this process', async () => {
    const lock = await acquire()

    expect(lock.mode).toBe('write')
    const holder = await readHolder()
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() })
    expect(holder.token).toMatch(/^[0-9a-f-]{36}$/)
    expect(lock.holder).toEqual(holder)
    if (process.platform !== 'win32') {
      expect((await stat(lockPath())).mode & 0o777).toBe(0o600)
      expect((await stat(join(dir, '.saveflow'))).mode & 0o777).toBe(0o700)
    }
  })

  it('answers read-only to a second opener in the same process, naming the holder', async () => {
    const first = await acquire()
    const second = await acquire()

    expect(first.mode).toBe('write')
    expect(second.mode).toBe('read-only')
    if (second.mode !== 'read-only') return
    expect(second.error.code).toBe('locked')
    expect(second.error.message).toContain(`pid ${process.pid}`)
    expect(second.error.details?.holder).toEqual(first.holder)
  })

  it('removes the lock on release, after which another opener gets it', async () => {
    const first = await acquire()
    if (first.mode !== 'write') throw new Error('expected the lock')

    await first.release()
    await first.release()

    await expect(stat(lockPath())).rejects.toMatchObject({ code: 'ENOENT' })
    expect((await acquire()).mode).toBe('write')
  })

  it('does not remove a lock that is no longer its own on release', async () => {
    const first = await acquire()
    if (first.mode !== 'write') throw new Error('expected the lock')
    await writeFile(lockPath(), JSON.stringify({ ...first.holder, token: 'someone-else' }))

    await first.release()

    expect((await readHolder()).token).toBe('someone-else')
  })

  it('refreshes its heartbeat, and reports the lock lost when another process replaced it', async () => {
    const lost = vi.fn()
    const lock = await acquire({ heartbeatMs: 10, onLost: lost })
    if (lock.mode !== 'write') throw new Error('expected the lock')

    await vi.waitFor(
      async () => expect((await readHolder()).heartbeatAt).toBeGreaterThan(lock.holder.heartbeatAt),
      {
        timeout: 5000,
      },
    )
    expect((await readHolder()).token).toBe(lock.holder.token)

    await rm(lockPath())
    await writeFile(lockPath(), JSON.stringify({ ...lock.holder, token: 'taken-over', pid: 1 }))
    await vi.waitFor(() => expect(lost).toHaveBeenCalledTimes(1), { timeout: 5000 })
    expect(lost.mock.calls[0]?.[0]).toMatchObject({ code: 'locked' })
    expect((await readHolder()).token).toBe('taken-over')
  })

  it('takes over a lock on another host once its heartbeat is older than the threshold', async () => {
    await writeHolder({ host: 'elsewhere', pid: 4242, heartbeatAt: Date.now() })

    const fresh = await acquire({ staleMs: 60_000 })
    const later = await acquire({ staleMs: 60_000, now: () => Date.now() + 61_000 })

    expect(fresh.mode).toBe('read-only')
    expect(fresh.holder).toMatchObject({ host: 'elsewhere', pid: 4242 })
    expect(later.mode).toBe('write')
    expect(await readHolder()).toMatchObject({ host: hostname(), pid: process.pid })
  })

  it('takes over a lock on this host whose pid is dead, however fresh its heartbeat', async () => {
    await writeHolder({ host: hostname(), pid: await deadPid(), heartbeatAt: Date.now() })

    const lock = await acquire()

    expect(lock.mode).toBe('write')
    const files = await readdir(join(dir, '.saveflow'))
    expect(files).toEqual(['lock'])
  })

  it('names the holder even when its start time is out of range', async () => {
    await writeHolder({ host: 'elsewhere', startedAt: 1e300 })

    const lock = await acquire()

    expect(lock.mode === 'read-only' && lock.error.message).toContain('since 1e+300')
  })

  it('judges an unreadable lock by its age: fresh means held, old means a crashed writer', async () => {
    await writeHolder({})
    await writeFile(lockPath(), '{"pid": 12')

    const fresh = await acquire()
    const past = new Date(Date.now() - 120_000)
    await utimes(lockPath(), past, past)
    const old = await acquire()

    expect(fresh.mode).toBe('read-only')
    expect(fresh.holder).toBeNull()
    expect(fresh.mode === 'read-only' && fresh.error.code).toBe('locked')
    expect(old.mode).toBe('write')
  })

  it('lets exactly one of many concurrent openers in one process take over a stale lock, round after round', async () => {
    const dead = await deadPid()
    for (let round = 0; round < 20; round++) {
      await writeHolder({ host: hostname(), pid: dead, token: `stale-${round}` })

      // Staggered by a few event-loop turns each, so that one opener's look falls between another's steps.
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          turns((i * (round + 1)) % 7).then(() => acquireWorkspaceLock(dir)),
        ),
      )

      const writers = answers.filter((answer) => answer.mode === 'write')
      expect(writers, `round ${round}`).toHaveLength(1)
      expect((await readHolder()).token).toBe(writers[0]?.holder.token)
      for (const answer of answers) if (answer.mode === 'write') await answer.release()
    }
  })

  describe('with real processes', () => {
    it('is read-only while another process holds the lock, and writable once that process is killed', async () => {
      const child = startFixture('lock-holder', [dir])
      expect(await holderLine(child)).toEqual(expect.objectContaining({ result: 'write', pid: child.pid }))

      const blocked = await acquire()
      expect(blocked.mode).toBe('read-only')
      expect(blocked.holder?.pid).toBe(child.pid)
      expect(blocked.mode === 'read-only' && blocked.error.message).toContain(`pid ${child.pid}`)

      child.process.kill('SIGKILL')
      await child.exited
      const taken = await acquire()

      expect(taken.mode).toBe('write')
      expect((await readHolder()).pid).toBe(process.pid)
    })

    it('stays held while the holder keeps beating, even past the stale threshold', async () => {
      const child = startFixture('lock-holder', [dir, '20', '300'])
      await holderLine(child)
      const first = await readHolder()

      await vi.waitFor(
        async () => expect((await readHolder()).heartbeatAt).toBeGreaterThan(first.heartbeatAt + 400),
        {
          timeout: 10_000,
          interval: 50,
        },
      )
      const lock = await acquire({ staleMs: 300 })

      expect(lock.mode).toBe('read-only')
      expect(lock.holder?.pid).toBe(child.pid)
    })

    it('releases on a clean exit of the holder', async () => {
      const child = startFixture('lock-holder', [dir])
      await holderLine(child)

      child.process.kill('SIGTERM')
      expect(await child.exited).toEqual({ code: 0, signal: null })

      await expect(stat(lockPath())).rejects.toMatchObject({ code: 'ENOENT' })
    })

    for (const start of ['a free workspace', 'a stale lock'] as const) {
      it(`lets exactly one of several racing processes win ${start}`, async () => {
        if (start === 'a stale lock') await writeHolder({ host: hostname(), pid: await deadPid() })
        const children = Array.from({ length: 4 }, () =>
          startFixture('lock-holder', [dir, '5000', '30000', 'wait-go']),
        )
        await Promise.all(children.map((child) => child.line((line) => line === 'READY')))

        for (const child of children) child.process.stdin.write('go\n')
        const answers = await Promise.all(children.map(holderLine))

        const writers = answers.filter((answer) => answer.result === 'write')
        expect(writers).toHaveLength(1)
        expect((await readHolder()).pid).toBe(writers[0]?.pid)
        const files = await readdir(join(dir, '.saveflow'))
        expect(files.filter((name) => name !== 'lock')).toEqual([])
      })
    }
  })
})
