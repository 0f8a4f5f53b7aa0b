import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { projectDocument } from '../../src/core/documents'
import { createRepository } from '../../src/core/repository'
import {
  conversationSchema,
  type ProjectData,
  projectDataSchema,
  userSettingsSchema,
} from '../../src/core/schemas'
import { snapshotCodec } from '../../src/core/snapshot-codec'
import type { NeedsUserDocument, OpenResult, ReadyDocument } from '../../src/core/workspace-session'
import { createFsStorage } from '../../src/node'
import { type OpenWorkspaceOptions, openWorkspace, type Workspace } from '../../src/node/workspace'
import { createFaultyStorage, type FaultyStorage } from '../../src/testing'
import { sampleProject, sampleSettings } from '../core/support/documents'
import { killAllFixtures, startFixture } from './fixtures/child-process'

const config = {
  saveDebounce: 20,
  maxWait: 100,
  backupInterval: 0,
  backupCount: 5,
  retry: { maxAttempts: 3, delay: 10, maxDelay: 40 },
}

/** Bounds the polls for a state the real clock reaches by itself (retries, debounce); asserts no duration. */
const WAIT = { timeout: 10_000, interval: 10 }

let dir: string
const open: Workspace[] = []

beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'saveflow-workspace-')), 'ws')
})

afterEach(async () => {
  await killAllFixtures()
  await Promise.all(open.splice(0).map((workspace) => workspace.close({ deadlineMs: 500 })))
  await rm(join(dir, '..'), { recursive: true, force: true })
})

async function openHere(options: OpenWorkspaceOptions = {}): Promise<Workspace> {
  const workspace = await openWorkspace(dir, { config, ...options })
  open.push(workspace)
  return workspace
}

async function closeHere(workspace: Workspace) {
  const outcomes = await workspace.close()
  open.splice(open.indexOf(workspace), 1)
  return outcomes
}

const project = (revision: number): ProjectData => sampleProject(3, `revision ${revision}`)

function ready<T>(result: OpenResult<T>): ReadyDocument<T> {
  expect(result).toMatchObject({ status: 'ready' })
  return result as ReadyDocument<T>
}

function needsUser<T>(result: OpenResult<T>): NeedsUserDocument<T> {
  expect(result).toMatchObject({ status: 'needsUser' })
  return result as NeedsUserDocument<T>
}

/** Saves the project at revisions 1..n through a workspace (each save backing up the file it replaces). */
async function saveProjects(n: number): Promise<void> {
  const workspace = await openHere()
  for (let revision = 1; revision <= n; revision++) {
    workspace.session.change('project', project(revision))
    expect(await workspace.session.flush('project')).toMatchObject({ result: 'saved' })
  }
  await closeHere(workspace)
}

const file = (path: string) => readFile(join(dir, path))
/** A document as the next start reads it (the project's newest saves are in its journal, not in project.json). */
const loadFromDisk = (key: string) => createRepository({ storage: createFsStorage(dir) }).load(key)
/** A copy of the project's journal in quarantine. */
const QUARANTINED_JOURNAL = /^\.saveflow\/quarantine\/project\.journal\.[^/]+\.jsonl$/
const exists = (path: string) =>
  stat(join(dir, path)).then(
    () => true,
    () => false,
  )
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(join(dir, folder), { recursive: true, withFileTypes: true }).catch(() => [])
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort()
}

/** The ways a file is found damaged; each is moved to quarantine as it is. */
const DAMAGES: [string, (bytes: Buffer) => Buffer | string, string, string | undefined][] = [
  [
    'a checksum mismatch',
    (b) => b.toString('utf8').replace('revision 1', 'revision X'),
    'corrupt',
    'checksum-mismatch',
  ],
  ['truncated JSON', (b) => b.subarray(0, Math.floor(b.length / 2)), 'corrupt', 'malformed-json'],
  ['a zero-length file', () => '', 'corrupt', 'empty'],
  [
    'data of the wrong schema',
    () =>
      Buffer.from(
        snapshotCodec.encode({
          kind: 'project',
          schemaVersion: 1,
          revision: 1,
          savedAt: '2026-01-15T10:00:00.000Z',
          data: { notAProject: true },
        }),
      ),
    'invalid-data',
    undefined,
  ],
]

describe('openWorkspace', () => {
  describe('a new folder', () => {
    it('creates the folder 0700, takes the lock and opens empty, valid documents without writing them', async () => {
      const workspace = await openHere()

      expect((await stat(dir)).mode & 0o777).toBe(0o700)
      expect(workspace.lock.mode).toBe('write')
      expect(workspace.readOnly).toBeNull()
      const settings = ready(workspace.settings)
      const opened = ready(workspace.project)
      expect(opened).toMatchObject({ source: 'empty', savedRevision: 0, recovery: null })
      expect(userSettingsSchema.parse(settings.data)).toEqual(settings.data)
      expect(projectDataSchema.parse(opened.data)).toEqual(opened.data)
      expect(await filesUnder('')).toEqual(['.saveflow/lock'])
    })

    it('saves edits and gives them back after a reopen (I1, I2)', async () => {
      const workspace = await openHere()
      workspace.session.change('project', project(1))
      workspace.session.change('project', project(2))
      workspace.session.change('settings', sampleSettings('light'))
      await vi.waitFor(() => expect(workspace.coordinator.aggregate().status).toBe('saved'), WAIT)

      await closeHere(workspace)
      const again = await openHere()

      expect(await exists('.saveflow/lock')).toBe(true)
      expect(ready(again.project)).toMatchObject({ source: 'primary', data: project(2), savedRevision: 2 })
      expect(ready(again.settings)).toMatchObject({ data: sampleSettings('light') })
    })

    it('opens conversations on demand and refuses an id that could reach a path', async () => {
      const workspace = await openHere()

      const conversation = ready(await workspace.openConversation('c-1'))
      workspace.session.change('conversation/c-1', { ...conversation.data, title: 'Hello' })
      await workspace.session.flush('conversation/c-1')

      expect(conversationSchema.parse(conversation.data).id).toBe('c-1')
      expect(await filesUnder('conversations')).toEqual(['conversations/c-1.jsonl'])
      expect(await loadFromDisk('conversation/c-1')).toMatchObject({
        ok: true,
        path: 'conversations/c-1.jsonl',
        data: { title: 'Hello' },
      })
      await expect(workspace.openConversation('../settings')).rejects.toMatchObject({ code: 'invalid-id' })
    })

    it('removes the temp files a crash left before anything is saved', async () => {
      await saveProjects(2)
      await writeFile(join(dir, 'project.json.123456'), 'half a write')
      await mkdir(join(dir, '.saveflow/backups/project'), { recursive: true })
      await writeFile(join(dir, '.saveflow/backups/project/x.json.42'), 'half a copy')

      const workspace = await openHere()

      expect([...workspace.removedTempFiles].sort()).toEqual([
        '.saveflow/backups/project/x.json.42',
        'project.json.123456',
      ])
      expect(await exists('project.json.123456')).toBe(false)
      expect(ready(workspace.project).data).toEqual(project(2))
    })
  })

  describe('damaged files, through the whole stack', () => {
    it.each(DAMAGES)(
      'asks the user after %s with no backup, keeps the file in quarantine, and starts empty',
      async (_, damage, code, reason) => {
        await saveProjects(1)
        const damaged = damage(await file('project.json'))
        await writeFile(join(dir, 'project.json'), damaged)

        const workspace = await openHere()
        const asked = needsUser(workspace.project)

        expect(asked.recovery.problem).toMatchObject({ code, ...(reason ? { details: { reason } } : {}) })
        expect(asked.backups).toEqual([])
        expect(await exists('project.json')).toBe(false)
        const quarantined = asked.recovery.quarantinedTo!
        expect((await file(quarantined)).equals(Buffer.from(damaged))).toBe(true)
        expect(workspace.session.recoveryReports()).toEqual([asked.recovery])

        const empty = ready(await asked.startEmpty())
        workspace.session.change('project', { ...(empty.data as ProjectData), version: 5 })
        expect(await workspace.session.flush('project')).toMatchObject({ result: 'saved' })

        expect((await file(quarantined)).equals(Buffer.from(damaged))).toBe(true)
        expect(JSON.parse((await file('project.json')).toString()).data.version).toBe(5)
      },
    )

    it('opens from the good backup when the primary is damaged, and never overwrites the damaged file', async () => {
      // Backups of revisions 1 and 2; project.json holds revision 1 and its journal revisions 2 and 3: without the
      // snapshot nothing replays.
      await saveProjects(3)
      const damaged = (await file('project.json')).toString().replace('revision 1', 'revision X')
      expect(damaged).not.toBe((await file('project.json')).toString())
      await writeFile(join(dir, 'project.json'), damaged)

      const workspace = await openHere()
      const opened = ready(workspace.project)
      workspace.session.change('project', project(4))
      await workspace.session.flush('project')

      expect(opened).toMatchObject({ source: 'backup', data: project(2), savedRevision: 2 })
      expect(opened.recovery).toMatchObject({
        problem: { code: 'corrupt', details: { reason: 'checksum-mismatch' } },
        restoredFrom: { revision: 2 },
        needsUser: false,
      })
      expect(opened.recovery!.quarantinedTo).toMatch(
        /^\.saveflow\/quarantine\/project\..*checksum-mismatch\.json$/,
      )
      expect((await file(opened.recovery!.quarantinedTo!)).toString()).toBe(damaged)
      // The edit is saved above the restored revision 2.
      expect(await loadFromDisk('project')).toMatchObject({ ok: true, revision: 3, data: project(4) })
    })

    it('asks the user when the primary and every backup are damaged; a bad pick asks again, starting empty works', async () => {
      await saveProjects(3)
      const backups = await filesUnder('.saveflow/backups')
      expect(backups).toHaveLength(2)
      for (const path of ['project.json', ...backups]) await writeFile(join(dir, path), '{"format":1,"kind"')
      const journal = await file('project.journal.jsonl')

      const workspace = await openHere()
      const asked = needsUser(workspace.project)

      expect(asked.recovery.triedBackups.map((tried) => tried.rejectedFor?.code)).toEqual([
        'corrupt',
        'corrupt',
      ])
      const again = needsUser(await asked.chooseBackup(asked.backups[0]!.id))
      expect(again.recovery.triedBackups.at(-1)).toMatchObject({
        backup: asked.backups[0],
        rejectedFor: { code: 'corrupt' },
      })
      const empty = ready(await again.startEmpty())
      expect(empty.source).toBe('empty')
      workspace.session.change('project', project(9))
      expect(await workspace.session.flush('project')).toMatchObject({ result: 'saved' })

      // The damaged snapshot, and the journal that cannot replay without it, each kept once as they were.
      const quarantined = await filesUnder('.saveflow/quarantine')
      expect(quarantined).toEqual([asked.recovery.quarantinedTo, expect.stringMatching(QUARANTINED_JOURNAL)])
      expect((await file(quarantined[0]!)).toString()).toBe('{"format":1,"kind"')
      expect((await file(quarantined[1]!)).equals(journal)).toBe(true)
      for (const path of backups) expect((await file(path)).toString()).toBe('{"format":1,"kind"')
    })

    it('restores the backup the user picks when it reads again', async () => {
      // Backups of revisions 1 and 2, neither readable on the first try.
      await saveProjects(3)
      await writeFile(join(dir, 'project.json'), '')
      const journal = await file('project.journal.jsonl')
      let faulty: FaultyStorage | undefined
      const workspace = await openHere({
        wrapStorage: (storage) => {
          faulty = createFaultyStorage(storage, [
            { op: 'read', path: '.saveflow/backups', code: 'EIO', times: 2 },
          ])
          return faulty
        },
      })
      const asked = needsUser(workspace.project)
      expect(asked.recovery.triedBackups[0]!.rejectedFor).toMatchObject({ code: 'io' })

      const picked = ready(await asked.chooseBackup(asked.backups[0]!.id))

      expect(picked).toMatchObject({ source: 'backup', data: project(2) })
      expect(JSON.parse((await file('project.json')).toString())).toMatchObject({ revision: 2 })
      expect(await loadFromDisk('project')).toMatchObject({ ok: true, revision: 2, data: project(2) })
      const quarantined = await filesUnder('.saveflow/quarantine')
      expect(quarantined).toEqual([asked.recovery.quarantinedTo, expect.stringMatching(QUARANTINED_JOURNAL)])
      expect((await file(quarantined[0]!)).length).toBe(0)
      expect((await file(quarantined[1]!)).equals(journal)).toBe(true)
    })

    it('refuses a file that is too large without reading, moving or overwriting it', async () => {
      await saveProjects(1)
      const before = await file('project.json')
      const small = { project: { ...projectDocument, maxBytes: before.length - 1 } }

      const workspace = await openHere({ definitions: small })
      workspace.session.change('project', project(2))
      const outcomes = await workspace.close({ deadlineMs: 100 })
      open.splice(open.indexOf(workspace), 1)

      expect(workspace.project).toMatchObject({
        status: 'failed',
        error: { code: 'too-large', details: { size: before.length } },
      })
      expect(outcomes.find((outcome) => outcome.key === 'project')).toMatchObject({ result: 'timeout' })
      expect((await file('project.json')).equals(before)).toBe(true)
      expect(await filesUnder('.saveflow/quarantine')).toEqual([])
    })

    it('opens a file from a newer version read-only and leaves its bytes alone through edits and a flush', async () => {
      await mkdir(dir, { recursive: true })
      const bytes = snapshotCodec.encode({
        kind: 'project',
        schemaVersion: 3,
        revision: 12,
        savedAt: '2030-01-01T00:00:00.000Z',
        data: { shapeFromTheFuture: [1, 2, 3] },
      })
      await writeFile(join(dir, 'project.json'), bytes)

      const workspace = await openHere()
      const opened = ready(workspace.project)
      workspace.session.change('project', project(1))
      const flushed = await workspace.session.flush('project')
      await closeHere(workspace)

      expect(opened).toMatchObject({
        data: { shapeFromTheFuture: [1, 2, 3] },
        savedRevision: 12,
        readOnly: { code: 'future-version', fileVersion: 3, supportedVersion: 1 },
      })
      expect(flushed).toMatchObject({ result: 'failed', error: { code: 'future-version' } })
      expect((await file('project.json')).equals(Buffer.from(bytes))).toBe(true)
      expect(await filesUnder('.saveflow')).toEqual([])
    })
  })

  describe('save faults', () => {
    async function faultyWorkspace() {
      await saveProjects(1)
      let faulty: FaultyStorage | undefined
      const workspace = await openHere({
        wrapStorage: (storage) => {
          faulty = createFaultyStorage(storage)
          return faulty
        },
      })
      return { workspace, faulty: faulty!, before: await documentFiles() }
    }

    /** The project's files: a save after the first appends to the journal and leaves project.json alone. */
    const documentFiles = () => Promise.all([file('project.json'), file('project.journal.jsonl')])

    it('retries a full disk, keeps the previous file, and saves by itself once space returns', async () => {
      const { workspace, faulty, before } = await faultyWorkspace()
      const rule = faulty.addRule({ op: 'append', code: 'ENOSPC' })

      workspace.session.change('project', project(2))
      // Past `maxAttempts` (3): a full disk is never given up on.
      await vi.waitFor(
        () => expect(workspace.coordinator.status('project').attempt).toBeGreaterThanOrEqual(4),
        WAIT,
      )

      expect(workspace.coordinator.status('project')).toMatchObject({
        status: expect.stringMatching(/^(retrying|saving)$/),
        lastError: { code: 'disk-full', hint: 'Free some space; saving resumes by itself.' },
      })
      expect(await documentFiles()).toEqual(before)
      faulty.removeRule(rule)
      await vi.waitFor(() => expect(workspace.coordinator.status('project').status).toBe('saved'), WAIT)
      expect(await loadFromDisk('project')).toMatchObject({ ok: true, revision: 2, data: project(2) })
      expect(await workspace.storage.listTempFiles()).toEqual([])
    })

    it('fails at once on a permission error with the hint, and saves on Retry once it is cleared', async () => {
      const { workspace, faulty, before } = await faultyWorkspace()
      const rule = faulty.addRule({ op: 'append', code: 'EACCES' })

      workspace.session.change('project', project(2))
      const outcome = await workspace.session.flush('project')

      expect(outcome).toMatchObject({
        result: 'failed',
        error: { code: 'permission-denied', hint: 'Check the folder permissions, then press Retry.' },
      })
      expect(workspace.coordinator.status('project')).toMatchObject({ status: 'failed', attempt: 1 })
      expect(await documentFiles()).toEqual(before)
      expect(await workspace.storage.listTempFiles()).toEqual([])
      faulty.removeRule(rule)
      workspace.session.retry('project')
      await vi.waitFor(() => expect(workspace.coordinator.status('project').status).toBe('saved'), WAIT)
      expect(await loadFromDisk('project')).toMatchObject({ ok: true, revision: 2, data: project(2) })
    })
  })

  describe('two processes', () => {
    it('opens a second process read-only, naming the holder, and its edits never reach the disk', async () => {
      const holder = await openHere()
      holder.session.change('project', project(1))
      await holder.session.flush('project')
      // A save of the child would append to the journal, not replace project.json: both must stay as they are.
      const before = await Promise.all([file('project.json'), file('project.journal.jsonl')])

      const child = startFixture('workspace-child', [dir, '10'])
      const ready = JSON.parse((await child.line((line) => line.startsWith('READY '))).slice(6))
      child.process.stdin.write('edit from the child\nflush\n')
      const flushed = JSON.parse((await child.line((line) => line.startsWith('FLUSHED '))).slice(8))
      child.process.stdin.write('close\n')
      await child.line((line) => line === 'CLOSED')

      expect(ready).toMatchObject({ project: 'ready', readOnly: { code: 'locked' } })
      expect(ready.readOnly.message).toContain(`pid ${process.pid}`)
      expect(flushed).toMatchObject({ result: 'failed', error: { code: 'locked' } })
      expect(await Promise.all([file('project.json'), file('project.journal.jsonl')])).toEqual(before)
      expect(JSON.parse((await file('.saveflow/lock')).toString())).toMatchObject({ pid: process.pid })
    })

    it('takes over the lock a SIGKILLed process left', async () => {
      const child = startFixture('workspace-child', [dir])
      const ready = JSON.parse((await child.line((line) => line.startsWith('READY '))).slice(6))
      expect(ready.readOnly).toBeNull()
      expect(JSON.parse((await file('.saveflow/lock')).toString())).toMatchObject({ pid: child.pid })

      child.process.kill('SIGKILL')
      await child.exited
      const workspace = await openHere()

      expect(workspace.lock.mode).toBe('write')
      expect(workspace.readOnly).toBeNull()
      expect(JSON.parse((await file('.saveflow/lock')).toString())).toMatchObject({ pid: process.pid })
    })

    it('flushes unsaved edits on SIGTERM, releases the lock and exits with 143', async () => {
      const child = startFixture('workspace-child', [dir, '600000'])
      await child.line((line) => line.startsWith('READY '))
      child.process.stdin.write('edit first\nedit last\n')
      await child.line((line) => line === 'EDITED 2')
      expect(await exists('project.json')).toBe(false)

      child.process.kill('SIGTERM')

      expect(await child.exited).toEqual({ code: 143, signal: null })
      expect(JSON.parse((await file('project.json')).toString()).data.metadata.name).toBe('last')
      expect(await exists('.saveflow/lock')).toBe(false)
    })
  })
})
