import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ERROR_TEXT, SaveflowError } from '../../src/core/errors'
import { createRepository } from '../../src/core/repository'
import { createRpcClient, createRpcInvokeClient, type RpcClientOptions } from '../../src/core/rpc-client'
import { KEEPALIVE_BODY_LIMIT } from '../../src/core/rpc-protocol'
import { createSaveCoordinator } from '../../src/core/save-coordinator'
import { projectDataSchema } from '../../src/core/schemas'
import type { SaveEvent } from '../../src/core/status'
import type { StorageBackend } from '../../src/core/storage'
import { createWorkspaceSession } from '../../src/core/workspace-session'
import { createFsStorage, createRpcHandler, listenRpcServer, type RpcServer } from '../../src/node'
import { createFaultyStorage, type FaultRule } from '../../src/testing'
import { sampleConversation, sampleProject, sampleSettings } from '../core/support/documents'

/**
 * The page's side of the bridge: the client over Node's global fetch, against a real server on 127.0.0.1 and a
 * real repository on a temp folder. What a page relies on: the repository's contract holds across the wire, errors
 * arrive typed and classified, and a server that goes away costs retries, not data.
 */

const TOKEN = 'client-test-token-0123456789'
const T0 = Date.parse('2026-01-15T10:00:00.000Z')

let root: string
const servers: RpcServer[] = []

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'saveflow-rpc-client-'))
})

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close().catch(() => {})
  await fsp.rm(root, { recursive: true, force: true })
})

async function start(
  options: { faults?: FaultRule[]; client?: Partial<RpcClientOptions>; port?: number } = {},
) {
  const fs = createFsStorage(root)
  const storage: StorageBackend = options.faults === undefined ? fs : createFaultyStorage(fs, options.faults)
  const clock = { now: T0 }
  const repository = createRepository({
    storage,
    now: () => clock.now++,
    config: { backupInterval: 0, backupCount: 5 },
  })
  const handler = createRpcHandler({ repository, token: TOKEN })
  const server = await listen(handler, options.port)
  const client = createRpcClient({ url: server.url, token: TOKEN, ...options.client })
  return { repository, handler, server, client }
}

async function listen(handler: ReturnType<typeof createRpcHandler>, port?: number) {
  const server = await listenRpcServer(port === undefined ? { handler } : { handler, port })
  servers.push(server)
  return server
}

const fileBytes = (relative: string) => readFileSync(join(root, relative))
/** Bytes of the project on disk: its snapshot and its journal, to which a later save appends. */
const projectBytes = () =>
  ['project.json', 'project.journal.jsonl'].reduce(
    (sum, relative) => sum + (statSync(join(root, relative), { throwIfNoEntry: false })?.size ?? 0),
    0,
  )

/** A fetch that records what it was asked and then asks the real one. */
function recordingFetch() {
  const calls: RequestInit[] = []
  const fetchFn: typeof fetch = (input, init = {}) => {
    calls.push(init)
    return fetch(input, init)
  }
  return { calls, fetchFn }
}

describe('createRpcClient: the repository across the wire', () => {
  it('saves, loads, lists, reads and restores backups as the repository does', async () => {
    const { client } = await start()
    for (let revision = 1; revision <= 3; revision++) {
      const before = projectBytes()
      const saved = await client.save('project', sampleProject(4, `r${revision}`), revision)
      expect(saved).toEqual({ bytes: projectBytes() - before })
    }
    const loaded = await client.load('project')
    expect(loaded).toMatchObject({
      ok: true,
      revision: 3,
      data: sampleProject(4, 'r3'),
      path: 'project.json',
    })

    const backups = await client.listBackups('project')
    expect(backups.map((backup) => backup.revision)).toEqual([2, 1])
    // A BackupInfo as listed, or just its name, both work.
    expect(await client.readBackup('project', backups[0]!)).toMatchObject({ ok: true, revision: 2 })
    expect(await client.readBackup('project', backups[1]!.name)).toMatchObject({
      ok: true,
      data: sampleProject(4, 'r1'),
    })

    const restored = await client.restoreBackup('project', backups[1]!)
    expect(restored).toMatchObject({ ok: true, revision: 1, path: 'project.json' })
    expect(await client.load('project')).toMatchObject({
      ok: true,
      revision: 1,
      data: sampleProject(4, 'r1'),
    })
    // The restore kept the file it replaced as a backup, so it can be undone.
    expect((await client.listBackups('project')).map((backup) => backup.revision)).toContain(3)
  })

  it('takes a backup now, quarantines a file and lists the quarantine', async () => {
    const { client } = await start()
    expect(await client.backupNow('settings')).toBeNull()
    await client.save('settings', sampleSettings('dark'), 1)
    expect(await client.backupNow('settings')).toMatchObject({ key: 'settings', revision: 1 })
    const moved = await client.quarantine('settings', 'checksum mismatch')
    expect(moved).toMatchObject({ from: 'settings.json', reason: 'checksum-mismatch' })
    expect(await client.listQuarantine()).toEqual([moved.to])
    const loaded = await client.load('settings')
    expect(loaded.ok).toBe(false)
    if (loaded.ok) return
    // Revived: a real SaveflowError, with the details the load machine reads.
    expect(loaded.error).toBeInstanceOf(SaveflowError)
    expect(loaded.error).toMatchObject({ code: 'not-found', details: { backups: 1 } })
  })

  it('sends dates as the ISO strings the schemas hold, and they load back unchanged', async () => {
    const { client } = await start()
    const at = new Date(T0 + 1234)
    // JSON turns a stray Date into its ISO string, which is exactly the schema's form.
    const conversation = { ...sampleConversation('c7'), updatedAt: at as unknown as string }
    await client.save('conversation/c7', conversation, 1)
    const loaded = await client.load('conversation/c7')
    expect(loaded).toMatchObject({ ok: true, data: { updatedAt: '2026-01-15T10:00:01.234Z' } })
    // The log's first line is its header record, which holds the conversation's own fields.
    const [header] = fileBytes('conversations/c7.jsonl').toString('utf8').split('\n')
    expect(JSON.parse(header!).rec).toMatchObject({
      op: 'header',
      fields: { updatedAt: '2026-01-15T10:00:01.234Z' },
    })
  })

  it('rejects invalid data from the server, typed and not retried, leaving the file as it was', async () => {
    const { client } = await start()
    await client.save('project', sampleProject(2), 1)
    const before = fileBytes('project.json')
    const error = await client.save('project', { ...sampleProject(2), version: 'three' }, 2).catch((e) => e)
    expect(error).toBeInstanceOf(SaveflowError)
    expect(error).toMatchObject({
      code: 'invalid-data',
      retry: 'never',
      details: { issues: [{ path: 'version' }] },
    })
    expect(fileBytes('project.json')).toEqual(before)
  })

  it('keeps the repository’s contract for bad ids: loads resolve a failure, other calls reject', async () => {
    const { client } = await start()
    expect(await client.load('conversation/../x')).toMatchObject({ ok: false, error: { code: 'invalid-id' } })
    await expect(client.save('../settings', sampleSettings(), 1)).rejects.toMatchObject({
      code: 'invalid-id',
    })
    const otherKeys = {
      key: 'settings',
      name: '20260115T100000000Z-r1.json',
      path: 'x',
      takenAt: T0,
      revision: 1,
    }
    expect(await client.readBackup('project', otherKeys)).toMatchObject({
      ok: false,
      error: { code: 'invalid-id' },
    })
    await expect(client.restoreBackup('project', otherKeys)).rejects.toMatchObject({ code: 'invalid-id' })
  })

  it('refuses a wrong token with a typed error that is not retried', async () => {
    const { server } = await start()
    const stranger = createRpcClient({ url: server.url, token: 'not-the-token-0123456789' })
    const error = await stranger.listQuarantine().catch((e) => e)
    expect(error).toMatchObject({ code: 'permission-denied', retry: 'never', details: { reason: 'token' } })
  })
})

describe('createRpcClient: errors from the disk cross the wire intact', () => {
  it.each<[NonNullable<FaultRule['code']>, string, string]>([
    ['ENOSPC', 'disk-full', 'slow'],
    ['EACCES', 'permission-denied', 'never'],
    ['EMFILE', 'busy', 'fast'],
  ])('%s arrives as %s with its message, hint, system code and retry class', async (sysCode, code, retry) => {
    const { client } = await start({ faults: [{ op: 'writeAtomic', code: sysCode }] })
    const error = await client.save('settings', sampleSettings(), 1).catch((e) => e)
    const text = ERROR_TEXT[code as keyof typeof ERROR_TEXT]
    expect(error).toBeInstanceOf(SaveflowError)
    expect(error).toMatchObject({ code, message: text.message, hint: text.hint, sysCode, retry })
  })
})

describe('createRpcClient: the server going away', () => {
  it('fails retryably while the server is down and works again once it is back', async () => {
    const { client, server, handler } = await start()
    await client.save('settings', sampleSettings('light'), 1)
    await server.close()

    const error = await client.save('settings', sampleSettings('dark'), 2).catch((e) => e)
    expect(error).toBeInstanceOf(SaveflowError)
    expect(error).toMatchObject({ code: 'io', details: { unreachable: true } })
    expect(error.retry).not.toBe('never')
    expect(await client.load('settings')).toMatchObject({ ok: false, error: { code: 'io', retry: 'normal' } })

    await listen(handler, server.port)
    await client.save('settings', sampleSettings('dark'), 2)
    expect(await client.load('settings')).toMatchObject({
      ok: true,
      revision: 2,
      data: sampleSettings('dark'),
    })
  })

  it('lets the coordinator retry through an outage and save once the server returns', async () => {
    const { client, server, handler } = await start()
    const coordinator = createSaveCoordinator({
      write: client.writeFn,
      validate: client.validateFn,
      config: { saveDebounce: 0, retry: { maxAttempts: 100, delay: 10, maxDelay: 50 } },
    })
    try {
      coordinator.register('settings', { kind: 'settings' })
      coordinator.change('settings', sampleSettings('light'))
      expect(await coordinator.flush('settings')).toMatchObject({ result: 'saved' })

      await server.close()
      const events: SaveEvent[] = []
      coordinator.on('*', (event) => events.push(event))
      const retrying = new Promise((resolve) => coordinator.on('save.retrying', resolve))
      const revision = coordinator.change('settings', sampleSettings('dark'))
      const flushed = coordinator.flush('settings')
      await retrying
      expect(coordinator.status('settings')).toMatchObject({ status: 'retrying' })

      await listen(handler, server.port)
      expect(await flushed).toMatchObject({ result: 'saved', savedRevision: revision })
      expect(events.map((event) => event.type)).toContain('save.recovered')
      expect(JSON.parse(fileBytes('settings.json').toString('utf8'))).toMatchObject({
        revision,
        data: sampleSettings('dark'),
      })
    } finally {
      coordinator.stop()
    }
  })

  it('maps an answer that is not a result to a retryable io error', async () => {
    const client = createRpcClient({
      url: 'http://127.0.0.1:9/saveflow/rpc',
      token: TOKEN,
      fetch: async () => new Response('<html>Bad gateway</html>', { status: 502 }),
    })
    await expect(client.listQuarantine()).rejects.toMatchObject({
      code: 'io',
      retry: 'normal',
      details: { badAnswer: true, status: 502 },
    })
  })

  it('maps a network failure of fetch to io with details.unreachable', async () => {
    const client = createRpcClient({
      url: 'http://127.0.0.1:9/saveflow/rpc',
      token: TOKEN,
      fetch: async () => {
        throw new TypeError('fetch failed')
      },
    })
    const error = await client.backupNow('project').catch((e) => e)
    expect(error).toMatchObject({ code: 'io', retry: 'normal', details: { unreachable: true } })
    expect(error.cause).toBeInstanceOf(TypeError)
  })
})

describe('createRpcClient: signals and keepalive', () => {
  it('does not send a save whose signal is already aborted', async () => {
    const { calls, fetchFn } = recordingFetch()
    const { client } = await start({ client: { fetch: fetchFn } })
    const controller = new AbortController()
    controller.abort()
    await expect(client.save('settings', sampleSettings(), 1, controller.signal)).rejects.toMatchObject({
      code: 'aborted',
    })
    expect(calls).toEqual([])
  })

  it('passes the signal to fetch and rejects aborted when it fires', async () => {
    let seen: AbortSignal | undefined
    const controller = new AbortController()
    const client = createRpcClient({
      url: 'http://127.0.0.1:9/saveflow/rpc',
      token: TOKEN,
      // A request that only ends when its signal fires, like one stuck behind a slow disk.
      fetch: (_input, init) =>
        new Promise((_resolve, reject) => {
          seen = init?.signal ?? undefined
          init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
        }),
    })
    const saving = client.writeFn({
      key: 'settings',
      kind: 'settings',
      data: sampleSettings(),
      revision: 1,
      signal: controller.signal,
    })
    expect(seen).toBe(controller.signal)
    controller.abort()
    await expect(saving).rejects.toMatchObject({ code: 'aborted', retry: 'never' })
  })

  it('keeps small requests alive and sends larger ones normally, within the 64 KiB budget', async () => {
    const { calls, fetchFn } = recordingFetch()
    const { client } = await start({ client: { fetch: fetchFn, keepalive: true } })
    await client.save('cache/small', { text: 'x'.repeat(1000) }, 1)
    await client.save('cache/large', { text: 'x'.repeat(KEEPALIVE_BODY_LIMIT) }, 1)
    // Two at once: 40 KiB fits the budget, a second 40 KiB in flight with it does not.
    const twoAtOnce = [
      client.save('cache/a', { text: 'a'.repeat(40 * 1024) }, 1),
      client.save('cache/b', { text: 'b'.repeat(40 * 1024) }, 1),
    ]
    await Promise.all(twoAtOnce)
    expect(calls.map((init) => init.keepalive)).toEqual([true, false, true, false])
    expect(await client.load('cache/large')).toMatchObject({ ok: true })
  })

  it('sends nothing with keepalive unless asked to', async () => {
    const { calls, fetchFn } = recordingFetch()
    const { client } = await start({ client: { fetch: fetchFn } })
    await client.save('cache/small', { n: 1 }, 1)
    expect(calls.map((init) => init.keepalive)).toEqual([false])
  })
})

describe('createRpcClient: the coordinator’s functions', () => {
  it('validates in the page without a request, returning the parsed data', async () => {
    const { calls, fetchFn } = recordingFetch()
    const { client } = await start({ client: { fetch: fetchFn } })
    expect(client.validateFn({ key: 'settings', kind: 'settings', data: { theme: 'dark' } })).toEqual(
      sampleSettings('dark'),
    )
    expect(() => client.validateFn({ key: 'settings', kind: 'settings', data: { theme: 'purple' } })).toThrow(
      expect.objectContaining({ code: 'invalid-data' }),
    )
    expect(calls).toEqual([])
  })

  it('validates a project it loaded by its change: no whole parse in the page, invalid nodes still refused', async () => {
    const { client } = await start()
    await client.save('project', sampleProject(30), 1)
    const loaded = await client.load('project')
    if (!loaded.ok) throw loaded.error
    const parse = vi.spyOn(projectDataSchema, 'safeParse')
    try {
      const tree = loaded.data.tree.with(4, { ...loaded.data.tree[4]!, title: 'Renamed' })
      const next = { ...loaded.data, tree }
      expect(client.validateFn({ key: 'project', kind: 'project', data: next })).toBe(next)
      expect(parse).not.toHaveBeenCalled()
      const bad = { ...next, tree: next.tree.with(5, { ...next.tree[5]!, parentId: 'nowhere' }) }
      expect(() => client.validateFn({ key: 'project', kind: 'project', data: bad })).toThrow(
        expect.objectContaining({ code: 'invalid-data' }),
      )
    } finally {
      parse.mockRestore()
    }
  })

  it('writes through writeFn and reports the bytes written', async () => {
    const { client } = await start()
    const signal = new AbortController().signal
    const result = await client.writeFn({
      key: 'project',
      kind: 'project',
      data: sampleProject(3),
      revision: 5,
      signal,
    })
    // A first save writes the snapshot and starts its journal.
    expect(result).toEqual({
      bytes: fileBytes('project.json').length + fileBytes('project.journal.jsonl').length,
    })
  })
})

describe('createRpcClient: a page’s workspace session over the bridge', () => {
  it('recovers a damaged file from a backup through the bridge, then saves edits to disk', async () => {
    const { client, repository } = await start()
    // Backups of r1 and r2; project.json holds r1 and its journal r2 and r3: without the snapshot nothing replays.
    for (let revision = 1; revision <= 3; revision++) {
      await repository.save('project', sampleProject(3, `r${revision}`), revision)
    }
    await fsp.writeFile(join(root, 'project.json'), '{"format":1,"kind":"project", torn')
    const session = createWorkspaceSession({ repository: client, config: { saveDebounce: 0 } })
    try {
      const opened = await session.open('project')
      expect(opened).toMatchObject({ status: 'ready', source: 'backup', data: sampleProject(3, 'r2') })
      // The torn file went to quarantine through the bridge, never deleted, and the journal that cannot replay
      // without it went with it.
      expect(await client.listQuarantine()).toEqual([
        expect.stringMatching(/^\.saveflow\/quarantine\/project\.\d{8}T[^/]*\.json$/),
        expect.stringMatching(/^\.saveflow\/quarantine\/project\.journal\.[^/]*\.jsonl$/),
      ])
      const revision = session.change('project', sampleProject(3, 'edited in the page'))
      expect(await session.flush('project')).toMatchObject({ result: 'saved', savedRevision: revision })
      // Read back the way the next start reads it, not through the server's repository.
      const onDisk = await createRepository({ storage: createFsStorage(root) }).load('project')
      expect(onDisk).toMatchObject({ ok: true, revision, data: { metadata: { name: 'edited in the page' } } })
    } finally {
      await session.close()
    }
  })
})

describe('createRpcInvokeClient: the Electron path', () => {
  it('reaches dispatch through a structured-clone channel, with errors revived', async () => {
    const { handler } = await start()
    // What ipcRenderer.invoke and ipcMain.handle do to arguments and results.
    const client = createRpcInvokeClient({
      invoke: async (op, args) => structuredClone(await handler.dispatch(op, structuredClone(args))),
    })
    await client.save('settings', sampleSettings('light'), 6)
    expect(await client.load('settings')).toMatchObject({
      ok: true,
      revision: 6,
      data: sampleSettings('light'),
    })
    const missing = await client.load('project')
    expect(missing.ok).toBe(false)
    if (!missing.ok) expect(missing.error).toBeInstanceOf(SaveflowError)
    const error = await client.save('settings', { theme: 'purple' }, 7).catch((e) => e)
    expect(error).toBeInstanceOf(SaveflowError)
    expect(error).toMatchObject({ code: 'invalid-data', retry: 'never' })
  })

  it('maps a failed invoke (no handler in the main process) to a retryable io error', async () => {
    const client = createRpcInvokeClient({
      invoke: async () => {
        throw new Error("No handler registered for 'saveflow'")
      },
    })
    await expect(client.listBackups('project')).rejects.toMatchObject({
      code: 'io',
      retry: 'normal',
      details: { unreachable: true },
    })
  })
})
