import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ERROR_TEXT } from '../../src/core/errors'
import { createRepository, type RepositoryOptions } from '../../src/core/repository'
import { RPC_PATH } from '../../src/core/rpc-protocol'
import type { StorageBackend } from '../../src/core/storage'
import { createFsStorage } from '../../src/node'
import {
  createRpcHandler,
  listenRpcServer,
  type RpcEvent,
  type RpcHandlerOptions,
  type RpcServer,
} from '../../src/node/rpc-server'
import { createFaultyStorage, type FaultRule } from '../../src/testing'
import { sampleProject, sampleSettings } from '../core/support/documents'

/**
 * The Node side of the bridge against a real repository on a real folder, over real HTTP on 127.0.0.1. Every
 * refused request is checked twice: by its status and typed error, and by the folder, which must hold the same files
 * with the same bytes as before it.
 */

const TOKEN = 'test-token-0123456789abcdef'
const T0 = Date.parse('2026-01-15T10:00:00.000Z')

let root: string
const servers: RpcServer[] = []

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'saveflow-rpc-'))
})

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close().catch(() => {})
  await fsp.rm(root, { recursive: true, force: true })
})

interface Setup {
  faults?: (FaultRule | 'ok')[]
  handler?: Partial<RpcHandlerOptions>
  repository?: Partial<RepositoryOptions>
}

async function start(options: Setup = {}) {
  const faulty =
    options.faults === undefined ? null : createFaultyStorage(createFsStorage(root), options.faults)
  const storage: StorageBackend = faulty ?? createFsStorage(root)
  const clock = { now: T0 }
  const repository = createRepository({
    storage,
    now: () => clock.now++,
    ...options.repository,
    config: { backupInterval: 0, backupCount: 5, ...options.repository?.config },
  })
  const events: RpcEvent[] = []
  const handler = createRpcHandler({
    repository,
    token: TOKEN,
    onEvent: (event) => events.push(event),
    ...options.handler,
  })
  const server = await listenRpcServer({ handler })
  servers.push(server)
  return { repository, handler, server, port: server.port, events, faulty }
}

/** Every file and folder under the workspace, files with their bytes: equal before and after means untouched. */
function folderState(): Record<string, string> {
  const state: Record<string, string> = {}
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(root, relative), { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`
      if (entry.isDirectory()) {
        state[`${path}/`] = 'folder'
        walk(path)
      } else {
        state[path] = readFileSync(join(root, path)).toString('base64')
      }
    }
  }
  walk('')
  return state
}

interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  // biome-ignore lint/suspicious/noExplicitAny: a response body as the test reads it
  body: any
}

interface RawRequest {
  method?: string
  path?: string
  headers?: Record<string, string | undefined>
  body?: string | Buffer
  /** Sent one after another without a Content-Length (chunked). */
  chunks?: Buffer[]
}

/**
 * One request with full control of its headers (fetch forbids setting `Host`). Write errors after the server
 * answered (it closes the connection on a body over the limit) are expected and ignored.
 */
function raw(port: number, options: RawRequest = {}): Promise<RawResponse> {
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    authorization: `Bearer ${TOKEN}`,
    'content-type': 'application/json',
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === undefined) delete headers[name]
    else headers[name] = value
  }
  return new Promise((resolve, reject) => {
    let answered = false
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: options.path ?? RPC_PATH,
        method: options.method ?? 'POST',
        headers,
        agent: false,
      },
      (res) => {
        answered = true
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text === '' ? null : JSON.parse(text),
          })
        })
      },
    )
    req.on('error', (error) => {
      if (!answered) reject(error)
    })
    if (options.chunks !== undefined) {
      const writeNext = (i: number): void => {
        if (answered || i >= options.chunks!.length) return void req.end()
        req.write(options.chunks![i], () => writeNext(i + 1))
      }
      writeNext(0)
    } else {
      req.end(options.body)
    }
  })
}

const call = (op: string, args: unknown) => JSON.stringify({ op, args })

/** A workspace with a project at revision 3 and two backups, so a restore or a save would visibly change it. */
async function populated(options: Setup = {}) {
  const setup = await start(options)
  for (let revision = 1; revision <= 3; revision++) {
    await setup.repository.save('project', sampleProject(4, `revision ${revision}`), revision)
  }
  const backups = await setup.repository.listBackups('project')
  expect(backups).toHaveLength(2)
  return { ...setup, backups }
}

describe('rpc server: calls over HTTP', () => {
  it('saves and loads through POST /saveflow/rpc, answering 200 with { ok, value }', async () => {
    const { port } = await start()
    const saved = await raw(port, { body: call('save', ['settings', sampleSettings('light'), 4]) })
    expect(saved.status).toBe(200)
    expect(saved.body).toEqual({ ok: true, value: { bytes: expect.any(Number) } })
    expect(saved.headers['cache-control']).toBe('no-store')
    const loaded = await raw(port, { body: call('load', ['settings']) })
    expect(loaded.body).toMatchObject({
      ok: true,
      value: {
        ok: true,
        data: sampleSettings('light'),
        revision: 4,
        savedAt: expect.stringMatching(/^2026-01-15T10:00:00\.\d{3}Z$/),
      },
    })
  })

  it('answers a load failure as a value whose error is plain data', async () => {
    const { port } = await start()
    const loaded = await raw(port, { body: call('load', ['project']) })
    expect(loaded.status).toBe(200)
    expect(loaded.body.value).toMatchObject({
      ok: false,
      path: 'project.json',
      error: { code: 'not-found', message: ERROR_TEXT['not-found'].message, retry: 'never' },
    })
  })

  it('validates again with the schema, even when the repository does not, and leaves the file as it was', async () => {
    const { port } = await populated({ repository: { config: { validation: { enabled: false } } } })
    const before = folderState()
    const bad = { ...sampleProject(2), version: 'three' }
    const response = await raw(port, { body: call('save', ['project', bad, 9]) })
    expect(response.status).toBe(400)
    expect(response.body).toMatchObject({
      ok: false,
      error: { code: 'invalid-data', retry: 'never', details: { issues: [{ path: 'version' }] } },
    })
    expect(folderState()).toEqual(before)
  })

  it('accepts the server’s own origin, both loopback host names, and an allowed origin with CORS headers', async () => {
    const { port } = await start({ handler: { allowedOrigins: ['http://localhost:5173'] } })
    const body = call('listQuarantine', [])
    const own = await raw(port, { body, headers: { origin: `http://127.0.0.1:${port}` } })
    expect(own.status).toBe(200)
    expect(own.headers['access-control-allow-origin']).toBeUndefined()
    const named = await raw(port, {
      body,
      headers: { host: `localhost:${port}`, origin: `http://localhost:${port}` },
    })
    expect(named.status).toBe(200)
    const dev = await raw(port, { body, headers: { origin: 'http://localhost:5173' } })
    expect(dev.status).toBe(200)
    expect(dev.headers['access-control-allow-origin']).toBe('http://localhost:5173')
    const preflight = await raw(port, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', authorization: undefined, 'content-type': undefined },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization')
  })

  // The project is saved by an append to its journal, the settings by replacing settings.json: the abort must
  // reach the storage call that holds the save either way.
  it.each([
    [
      'the project journal is appended to',
      {
        key: 'project',
        data: sampleProject(9, 'never written'),
        // Saves 2 and 3 of `populated` append; the third append, the save over rpc, waits (ten minutes, unaborted).
        fault: { op: 'append', path: 'project.journal.jsonl', skip: 2 },
        files: ['project.json', 'project.journal.jsonl'],
        revisionBefore: 3,
      },
    ],
    [
      'settings.json is replaced',
      {
        key: 'settings',
        data: sampleSettings('dark'),
        fault: { op: 'writeAtomic', path: 'settings.json', skip: 1 },
        files: ['settings.json'],
        revisionBefore: 1,
      },
    ],
  ] as const)('aborts a save whose caller went away, before %s', async (_, c) => {
    const faults: FaultRule[] = [{ ...c.fault, delayMs: 600_000 }]
    const { port, events, faulty, repository } = await populated({ faults })
    await repository.save('settings', sampleSettings('light'), 1)
    const before = c.files.map((path) => readFileSync(join(root, path)))
    const held = () => faulty!.calls.filter((x) => x.op === c.fault.op && x.path === c.fault.path).length
    const req = request({
      host: '127.0.0.1',
      port,
      path: RPC_PATH,
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    })
    req.on('error', () => {})
    req.end(call('save', [c.key, c.data, 10]))
    await expect.poll(held).toBe(c.fault.skip + 1)
    // The write is waiting on its delay; the caller gives up.
    req.destroy()
    await expect
      .poll(() => events.find((event) => event.type === 'rpc.call'))
      .toEqual({ type: 'rpc.call', op: 'save', ok: false, code: 'aborted' })
    // The backup taken before the write may stay; the files themselves are untouched and no temp file is left.
    expect(c.files.map((path) => readFileSync(join(root, path)))).toEqual(before)
    expect(Object.keys(folderState()).filter((path) => /\.jsonl?\.\d+$/.test(path))).toEqual([])
    expect(await repository.load(c.key)).toMatchObject({ ok: true, revision: c.revisionBefore })
  })
})

describe('rpc server: refusals change nothing on disk', () => {
  const saveBody = call('save', ['project', sampleProject(6, 'intruder'), 99])

  it.each<[string, (port: number) => RawRequest, number, string]>([
    ['no token', () => ({ body: saveBody, headers: { authorization: undefined } }), 401, 'permission-denied'],
    [
      'a wrong token',
      () => ({ body: saveBody, headers: { authorization: 'Bearer wrong-token-0123456789' } }),
      401,
      'permission-denied',
    ],
    [
      'the token with a suffix',
      () => ({ body: saveBody, headers: { authorization: `Bearer ${TOKEN}x` } }),
      401,
      'permission-denied',
    ],
    [
      'the token without "Bearer"',
      () => ({ body: saveBody, headers: { authorization: TOKEN } }),
      401,
      'permission-denied',
    ],
    [
      'a foreign Origin',
      () => ({ body: saveBody, headers: { origin: 'http://evil.example' } }),
      403,
      'permission-denied',
    ],
    [
      'a same-host Origin of another port',
      (port) => ({ body: saveBody, headers: { origin: `http://127.0.0.1:${port + 1}` } }),
      403,
      'permission-denied',
    ],
    ['Origin null', () => ({ body: saveBody, headers: { origin: 'null' } }), 403, 'permission-denied'],
    [
      'a foreign Host (DNS rebinding)',
      (port) => ({ body: saveBody, headers: { host: `evil.example:${port}` } }),
      403,
      'permission-denied',
    ],
    [
      'a loopback Host of another port',
      (port) => ({ body: saveBody, headers: { host: `127.0.0.1:${port + 1}` } }),
      403,
      'permission-denied',
    ],
    ['no port in Host', () => ({ body: saveBody, headers: { host: '127.0.0.1' } }), 403, 'permission-denied'],
    ['another path', () => ({ body: saveBody, path: '/saveflow/rpc/../files' }), 404, 'not-found'],
    ['GET', () => ({ method: 'GET' }), 405, 'invalid-data'],
    [
      'a form body',
      () => ({ body: saveBody, headers: { 'content-type': 'text/plain' } }),
      415,
      'invalid-data',
    ],
    ['a declared body over the limit', () => ({ body: Buffer.alloc(64 * 1024 + 1, 0x20) }), 413, 'too-large'],
    [
      'a streamed body over the limit',
      () => ({ chunks: Array.from({ length: 40 }, () => Buffer.alloc(4096, 0x20)) }),
      413,
      'too-large',
    ],
    ['malformed JSON', () => ({ body: '{"op":"save","args":[' }), 400, 'invalid-data'],
    [
      'bytes that are not UTF-8',
      () => ({ body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }),
      400,
      'invalid-data',
    ],
    [
      'JSON nested deeper than allowed',
      () => ({ body: call('save', ['cache/x', JSON.parse(`${'['.repeat(80)}${']'.repeat(80)}`), 1]) }),
      400,
      'invalid-data',
    ],
    [
      'an envelope with extra fields',
      () => ({ body: JSON.stringify({ op: 'listQuarantine', args: [], path: '/etc' }) }),
      400,
      'invalid-data',
    ],
    [
      'args that are not an array',
      () => ({ body: JSON.stringify({ op: 'save', args: { key: 'project' } }) }),
      400,
      'invalid-data',
    ],
    ['an unknown op', () => ({ body: call('writeAtomic', ['project.json', 'x']) }), 400, 'invalid-data'],
    ['an inherited property as op', () => ({ body: call('constructor', []) }), 400, 'invalid-data'],
    ['a key with ..', () => ({ body: call('save', ['..', sampleProject(1), 1]) }), 400, 'invalid-id'],
    [
      'a conversation key with ..',
      () => ({ body: call('save', ['conversation/..', {}, 1]) }),
      400,
      'invalid-id',
    ],
    [
      'a key climbing out',
      () => ({ body: call('save', ['conversation/../../etc/passwd', {}, 1]) }),
      400,
      'invalid-id',
    ],
    ['an absolute path as key', () => ({ body: call('load', ['/etc/passwd']) }), 400, 'invalid-id'],
    ['a file name as key', () => ({ body: call('quarantine', ['project.json', 'x']) }), 400, 'invalid-id'],
    [
      'a key with a backslash',
      () => ({ body: call('backupNow', ['cache\\..\\project']) }),
      400,
      'invalid-id',
    ],
    [
      'a key that is not a string',
      () => ({ body: call('load', [{ path: 'project.json' }]) }),
      400,
      'invalid-id',
    ],
    ['a bad key before bad args', () => ({ body: call('save', ['../x']) }), 400, 'invalid-id'],
    [
      'a backup name climbing out',
      () => ({ body: call('restoreBackup', ['project', '../../project.json']) }),
      400,
      'invalid-id',
    ],
    [
      'an absolute path as backup',
      () => ({ body: call('readBackup', ['project', '/etc/passwd']) }),
      400,
      'invalid-id',
    ],
    // A well-formed name only ever names a file in the key's own backup folder: here, none.
    [
      'another key’s backup name',
      () => ({ body: call('restoreBackup', ['settings', '20260115T100000000Z-r1.json']) }),
      404,
      'not-found',
    ],
    [
      'a path as quarantine reason',
      () => ({ body: call('quarantine', ['project', '../../outside']) }),
      400,
      'invalid-data',
    ],
    [
      'a negative revision',
      () => ({ body: call('save', ['project', sampleProject(1), -1]) }),
      400,
      'invalid-data',
    ],
    [
      'an extra argument',
      () => ({ body: call('save', ['project', sampleProject(1), 1, 'project.json']) }),
      400,
      'invalid-data',
    ],
    ['a missing argument', () => ({ body: call('restoreBackup', ['project']) }), 400, 'invalid-data'],
  ])('refuses %s', async (_name, build, status, code) => {
    const { port, server } = await populated({ handler: { maxBodyBytes: 64 * 1024 } })
    const before = folderState()
    const response = await raw(port, build(port))
    expect(response.status).toBe(status)
    expect(response.body).toMatchObject({ ok: false, error: { code, retry: 'never' } })
    expect(folderState()).toEqual(before)
    // The refusal did not take the server down: a proper request still works.
    expect((await raw(server.port, { body: call('listQuarantine', []) })).status).toBe(200)
  })

  it('refuses a body over the limit before reading it, and says why in an event', async () => {
    const { port, events } = await start({ handler: { maxBodyBytes: 1024 } })
    const response = await raw(port, { body: Buffer.alloc(2048, 0x20) })
    expect(response.status).toBe(413)
    expect(response.headers.connection).toBe('close')
    expect(events).toContainEqual({ type: 'rpc.rejected', status: 413, reason: 'too-large' })
    expect(events.some((event) => event.type === 'rpc.call')).toBe(false)
  })

  it('checks the token only after Host and Origin, so a rebinding page learns nothing about it', async () => {
    const { port, events } = await start()
    const response = await raw(port, {
      body: call('listQuarantine', []),
      headers: { host: `evil.example:${port}`, authorization: 'Bearer nope' },
    })
    expect(response.status).toBe(403)
    expect(events).toEqual([{ type: 'rpc.rejected', status: 403, reason: 'host' }])
  })
})

describe('rpc server: errors from the disk', () => {
  it.each<[FaultRule['code'], number, string, string]>([
    ['ENOSPC', 507, 'disk-full', 'slow'],
    ['EACCES', 409, 'permission-denied', 'never'],
    ['EROFS', 409, 'read-only', 'never'],
    ['EBUSY', 503, 'busy', 'fast'],
    ['EIO', 500, 'io', 'normal'],
  ])(
    'answers %s with %i and the typed error: code, message, hint and system code intact',
    async (sysCode, status, code, retry) => {
      const { port } = await start({ faults: [{ op: 'writeAtomic', code: sysCode! }] })
      const response = await raw(port, { body: call('save', ['settings', sampleSettings(), 1]) })
      expect(response.status).toBe(status)
      const text = ERROR_TEXT[code as keyof typeof ERROR_TEXT]
      expect(response.body).toEqual({
        ok: false,
        error: { code, message: text.message, hint: text.hint, retry, sysCode },
      })
      expect(folderState()).toEqual({})
    },
  )

  it('answers a read-only key with 409 after a load found a newer file', async () => {
    const { port, repository } = await start()
    await repository.save('settings', sampleSettings(), 1)
    const file = join(root, 'settings.json')
    const envelope = JSON.parse(readFileSync(file, 'utf8'))
    await fsp.writeFile(file, JSON.stringify({ ...envelope, schemaVersion: 99 }))
    const loaded = await raw(port, { body: call('load', ['settings']) })
    expect(loaded.body.value.error.code).toBe('future-version')
    const before = folderState()
    const saved = await raw(port, { body: call('save', ['settings', sampleSettings('light'), 2]) })
    expect(saved.status).toBe(409)
    expect(saved.body.error.code).toBe('future-version')
    expect(folderState()).toEqual(before)
  })
})

describe('rpc server: dispatch without HTTP (the Electron path)', () => {
  it('runs the document operations and answers structured-clonable results', async () => {
    const { handler } = await start()
    // What Electron does to arguments and results on the way through IPC.
    const invoke = async (op: string, args: unknown) =>
      structuredClone(await handler.dispatch(op, structuredClone(args)))
    expect(await invoke('save', ['settings', sampleSettings('dark'), 3])).toEqual({
      ok: true,
      value: { bytes: expect.any(Number) },
    })
    expect(await invoke('load', ['settings'])).toMatchObject({
      ok: true,
      value: { ok: true, revision: 3, data: sampleSettings('dark') },
    })
    expect(await invoke('backupNow', ['settings'])).toMatchObject({
      ok: true,
      value: { key: 'settings', revision: 3 },
    })
    expect(await invoke('listBackups', ['settings'])).toMatchObject({ ok: true, value: [{ revision: 3 }] })
    const missing = await invoke('load', ['conversation/c9'])
    expect(missing).toMatchObject({
      ok: true,
      value: { ok: false, error: { code: 'not-found', hint: ERROR_TEXT['not-found'].hint } },
    })
  })

  it.each<[string, string, unknown, string]>([
    ['an unknown op', 'unlink', ['project'], 'invalid-data'],
    ['a non-string op', { toString: () => 'load' } as unknown as string, ['project'], 'invalid-data'],
    ['args that are not an array', 'load', 'project', 'invalid-data'],
    ['a bad key', 'backupNow', ['../project'], 'invalid-id'],
    ['a Date, which JSON would not keep', 'save', ['cache/x', { at: new Date(T0) }, 1], 'invalid-data'],
    ['a Map', 'save', ['cache/x', new Map([['a', 1]]), 1], 'invalid-data'],
    ['NaN', 'save', ['cache/x', { n: Number.NaN }, 1], 'invalid-data'],
    [
      'nesting deeper than allowed',
      'save',
      ['cache/x', JSON.parse(`${'['.repeat(100)}${']'.repeat(100)}`), 1],
      'invalid-data',
    ],
    ['invalid data', 'save', ['settings', { theme: 'purple' }, 1], 'invalid-data'],
  ])('refuses %s with a typed error and writes nothing', async (_name, op, args, code) => {
    const { handler } = await start()
    const result = await handler.dispatch(op, args)
    expect(result).toMatchObject({ ok: false, error: { code, retry: 'never' } })
    expect(folderState()).toEqual({})
  })

  it('reports each call in an event', async () => {
    const { handler, events } = await start()
    await handler.dispatch('listQuarantine', [])
    await handler.dispatch('load', ['../x'])
    expect(events).toEqual([
      { type: 'rpc.call', op: 'listQuarantine', ok: true },
      { type: 'rpc.call', op: 'load', ok: false, code: 'invalid-id' },
    ])
  })
})

describe('createRpcHandler and listenRpcServer', () => {
  it('generates a long random token when none is given, and refuses a short one', async () => {
    const { repository } = await start()
    const a = createRpcHandler({ repository })
    const b = createRpcHandler({ repository })
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(a.token).not.toBe(b.token)
    expect(() => createRpcHandler({ repository, token: 'short' })).toThrow(TypeError)
  })

  it('binds 127.0.0.1 only and names the endpoint', async () => {
    const { server } = await start()
    expect(server.server.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4' })
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/saveflow/rpc`)
  })
})
