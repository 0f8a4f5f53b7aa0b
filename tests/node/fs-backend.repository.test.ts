import fsSync, { mkdtempSync } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DOCUMENTS } from '../../src/core/documents'
import { createRepository, type Repository } from '../../src/core/repository'
import { snapshotCodec } from '../../src/core/snapshot-codec'
import { createFsStorage } from '../../src/node'
import { conversationAt, projectAt, settingsAt } from '../core/support/crash-docs'
import { recoverDocument, sampleConversation, sampleProject, sampleSettings } from '../core/support/documents'

/**
 * The repository on a real folder: round trips of each kind, and every kind of damage a snapshot file can suffer
 * (on the settings, a snapshot document; the journaled ones have their own cases at the end). Each case ends with a
 * typed outcome; a damaged file ends in quarantine byte for byte, never overwritten; nothing throws a generic
 * exception.
 */

let root: string
const T0 = Date.parse('2026-01-15T10:00:00.000Z')

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'saveflow-repo-'))
})

afterEach(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

const path = (relative: string) => join(root, relative)
const bytesAt = (relative: string) => new Uint8Array(fsSync.readFileSync(path(relative)))

function open(options: Partial<Parameters<typeof createRepository>[0]> = {}) {
  const clock = { now: T0 }
  const repo = createRepository({
    storage: createFsStorage(root),
    now: () => clock.now++,
    config: { backupInterval: 0, backupCount: 5 },
    ...options,
  })
  return repo
}

/** Saves revisions 1..3 of the settings: the file holds 3, the backups 2 and 1. */
async function settingsWithBackups(repo: Repository) {
  for (let revision = 1; revision <= 3; revision++) {
    await repo.save('settings', settingsAt(revision), revision)
  }
  expect((await repo.listBackups('settings')).map((b) => b.revision)).toEqual([2, 1])
}

/** Replaces the primary with `damage(bytes)`, runs the recovery sequence, checks the quarantined copy. */
async function damageAndRecover(
  damage: (bytes: Uint8Array) => Uint8Array,
  expectedCode: string,
  reason?: string,
) {
  const repo = open()
  await settingsWithBackups(repo)
  const damaged = damage(bytesAt('settings.json'))
  fsSync.writeFileSync(path('settings.json'), damaged)
  const loaded = await repo.load('settings')
  expect(loaded.ok || loaded.error.code).toBe(expectedCode)
  if (reason !== undefined) expect(loaded.ok || loaded.error.details?.reason).toBe(reason)
  const recovery = await recoverDocument(repo, 'settings')
  expect(recovery).toMatchObject({ outcome: 'restored', revision: 2 })
  if (recovery.outcome !== 'restored') return
  expect(recovery.quarantined).toHaveLength(1)
  expect(bytesAt(recovery.quarantined[0]!)).toEqual(damaged)
  const after = await repo.load('settings')
  expect(after.ok && after.data).toEqual(settingsAt(2))
  // The restore kept the damaged file only in quarantine, not as a backup.
  expect((await repo.listBackups('settings')).map((b) => b.revision)).toEqual([2, 1])
}

describe('repository on a real folder', () => {
  it.each([
    ['project', sampleProject(2000)],
    ['settings', sampleSettings('dark')],
    ['conversation/c1', sampleConversation()],
    ['cache/models', { list: ['a', 'b'] }],
  ])('round-trips %s', async (key, data) => {
    const repo = open()
    await repo.save(key, data, 4)
    const loaded = await open().load(key)
    expect(loaded).toMatchObject({ ok: true, data, revision: 4 })
    const mode = fsSync.statSync(path(repo.pathOf(key))).mode & 0o777
    expect(mode).toBe(0o600)
  })

  it('recovers from a checksum mismatch', async () => {
    await damageAndRecover(
      (bytes) => {
        const text = new TextDecoder().decode(bytes).replace('"fontSize":11', '"fontSize":19')
        return new TextEncoder().encode(text)
      },
      'corrupt',
      'checksum-mismatch',
    )
  })

  it('recovers from a zero-length file', async () => {
    await damageAndRecover(() => new Uint8Array(0), 'corrupt', 'empty')
  })

  it('recovers from a file cut short at any of many points', async () => {
    const repo = open()
    await settingsWithBackups(repo)
    const whole = bytesAt('settings.json')
    const cuts = Array.from({ length: 24 }, (_, i) => Math.floor(((i + 1) * whole.length) / 26))
    for (const cut of cuts) {
      fsSync.writeFileSync(path('settings.json'), whole.subarray(0, cut))
      const loaded = await repo.load('settings')
      expect(loaded.ok || loaded.error.code, `cut at ${cut}`).toBe('corrupt')
      const quarantined = await repo.quarantine('settings', 'truncated')
      expect(bytesAt(quarantined.to)).toEqual(whole.subarray(0, cut))
      fsSync.writeFileSync(path('settings.json'), whole)
    }
    expect(await repo.listQuarantine()).toHaveLength(cuts.length)
  })

  it('recovers from a file missing its end', async () => {
    await damageAndRecover((bytes) => bytes.subarray(0, bytes.length - 7), 'corrupt', 'malformed-json')
  })

  it('recovers from data that passes its checksum but not the schema', async () => {
    await damageAndRecover(
      () =>
        snapshotCodec.encode({
          kind: 'settings',
          schemaVersion: 2,
          revision: 3,
          savedAt: new Date(T0).toISOString(),
          data: { theme: 'neon' },
        }),
      'invalid-data',
    )
  })

  it('refuses a file over the size limit without reading it, and without overwriting it', async () => {
    const repo = open()
    await repo.save('project', sampleProject(50), 1)
    const before = bytesAt('project.json')
    const small = open({ definitions: { project: { ...DOCUMENTS.project, maxBytes: 1000 } } })
    const loaded = await small.load('project')
    expect(loaded.ok || loaded.error).toMatchObject({ code: 'too-large', details: { size: before.length } })
    await expect(small.save('project', sampleProject(1), 2)).rejects.toMatchObject({ code: 'too-large' })
    expect(bytesAt('project.json')).toEqual(before)
    expect(await small.listQuarantine()).toEqual([])
  })

  it('opens a file from a future version read-only and never overwrites it', async () => {
    const future = snapshotCodec.encode({
      kind: 'settings',
      schemaVersion: 7,
      revision: 12,
      savedAt: new Date(T0).toISOString(),
      data: { theme: 'neon', hologram: true },
    })
    fsSync.writeFileSync(path('settings.json'), future)
    const repo = open()
    const loaded = await repo.load('settings')
    expect(loaded.ok || loaded.error.code).toBe('future-version')
    expect(loaded.ok || loaded.snapshot?.data).toEqual({ theme: 'neon', hologram: true })
    await expect(repo.save('settings', sampleSettings(), 13)).rejects.toMatchObject({
      code: 'future-version',
    })
    expect(bytesAt('settings.json')).toEqual(future)
  })

  it('ends in needs-user when the primary and every backup are damaged, with all of them in quarantine', async () => {
    const repo = open()
    await settingsWithBackups(repo)
    const backups = await repo.listBackups('settings')
    const originals = new Map<string, Uint8Array>()
    for (const [i, relative] of ['settings.json', ...backups.map((b) => b.path)].entries()) {
      // Each damaged differently: cut, emptied, flipped.
      const bytes = bytesAt(relative)
      const damaged =
        i === 0
          ? bytes.subarray(0, 40)
          : i === 1
            ? new Uint8Array(0)
            : bytes.map((b, j) => (j === 200 ? b ^ 1 : b))
      // Backups are hard links of earlier primaries: write a new file rather than through the shared inode.
      fsSync.rmSync(path(relative))
      fsSync.writeFileSync(path(relative), damaged)
      originals.set(relative, damaged)
    }
    const recovery = await recoverDocument(repo, 'settings')
    expect(recovery).toMatchObject({ outcome: 'needs-user', code: 'corrupt' })
    if (recovery.outcome !== 'needs-user') return
    expect(recovery.quarantined).toHaveLength(3)
    expect(recovery.quarantined.map((q) => bytesAt(q))).toEqual(
      expect.arrayContaining([...originals.values()]),
    )
    expect(await repo.listBackups('settings')).toEqual([])
    expect(fsSync.existsSync(path('settings.json'))).toBe(false)
    const fresh = await repo.load('settings')
    expect(fresh.ok || fresh.error.code).toBe('not-found')
    // Starting over works, and the quarantine is kept.
    await repo.save('settings', settingsAt(1), 1)
    expect(await repo.listQuarantine()).toHaveLength(3)
  })
})

describe('journaled documents on a real folder', () => {
  it('cuts a torn tail off a real log before the next append, keeping its bytes in quarantine', async () => {
    const repo = open()
    for (let revision = 1; revision <= 2; revision++) {
      await repo.save('conversation/c1', conversationAt(revision), revision)
    }
    const whole = bytesAt('conversations/c1.jsonl')
    const tail = new Uint8Array([...new TextEncoder().encode('{"len":120,"crc":"1'), 0, 0, 0])
    fsSync.appendFileSync(path('conversations/c1.jsonl'), tail)
    const reopened = open()
    expect(await reopened.load('conversation/c1')).toMatchObject({
      ok: true,
      revision: 2,
      journal: { tornBytes: 22 },
    })
    await reopened.save('conversation/c1', conversationAt(3), 3)
    const log = bytesAt('conversations/c1.jsonl')
    expect(log.subarray(0, whole.length)).toEqual(whole)
    const [kept] = await reopened.listQuarantine()
    expect(bytesAt(kept!)).toEqual(tail)
    expect(await open().load('conversation/c1')).toMatchObject({
      ok: true,
      revision: 3,
      data: conversationAt(3),
    })
  })

  it('recovers a project whose snapshot is damaged from its backup, keeping snapshot and journal in quarantine', async () => {
    const repo = open()
    for (let revision = 1; revision <= 3; revision++)
      await repo.save('project', projectAt(revision), revision)
    const journal = bytesAt('project.journal.jsonl')
    fsSync.writeFileSync(path('project.json'), '{"format":1,"kind":"project"')
    const recovery = await recoverDocument(open(), 'project')
    expect(recovery).toMatchObject({ outcome: 'restored', revision: 2, data: projectAt(2) })
    const quarantined = (await repo.listQuarantine()).map((q) => bytesAt(q))
    expect(quarantined).toContainEqual(journal)
    expect(await open().load('project')).toMatchObject({ ok: true, revision: 2, data: projectAt(2) })
  })
})
