import { describe, expect, it } from 'vitest'
import { createRepository, type Repository } from '../../src/core/repository'
import type { ProjectData } from '../../src/core/schemas'
import { snapshotCodec } from '../../src/core/snapshot-codec'
import {
  createWorkspaceSession,
  emptyDocumentData,
  type OpenResult,
  type ReadyDocument,
  type SessionRepository,
  type WorkspaceSessionEvent,
} from '../../src/core/workspace-session'
import {
  createFaultyStorage,
  createMemoryStorage,
  type FaultyStorage,
  type MemoryStorage,
} from '../../src/testing'
import { settle, TestClock } from '../machines/harness'
import { sampleProject, sampleSettings } from './support/documents'

const config = {
  saveDebounce: 100,
  maxWait: 1000,
  backupInterval: 0,
  backupCount: 5,
  retry: { maxAttempts: 3, delay: 100, maxDelay: 1000 },
}

function setup(
  options: {
    storage?: MemoryStorage
    faults?: boolean
    wrap?: (repo: Repository) => SessionRepository
    readOnly?: Parameters<typeof createWorkspaceSession>[0]['readOnly']
  } = {},
) {
  const clock = new TestClock()
  const memory = options.storage ?? createMemoryStorage({ now: () => clock.now() })
  const faulty: FaultyStorage | null = options.faults ? createFaultyStorage(memory) : null
  const repo = createRepository({ storage: faulty ?? memory, now: () => clock.now(), config })
  const session = createWorkspaceSession({
    repository: options.wrap?.(repo) ?? repo,
    config,
    clock,
    random: () => 0.5,
    ...(options.readOnly === undefined ? {} : { readOnly: options.readOnly }),
  })
  const events: WorkspaceSessionEvent[] = []
  session.on('*', (event) => events.push(event))
  return { clock, memory, faulty: faulty!, repo, session, events }
}

/** A file written by an earlier run, with `revision`, verified and complete. */
function fileOf(kind: 'project' | 'settings', data: unknown, revision: number, schemaVersion = 1) {
  return snapshotCodec.encode({ kind, schemaVersion, revision, savedAt: '2026-01-15T10:00:00.000Z', data })
}

/** A memory workspace where the project was saved at revisions 1..n (each save backing up the one before). */
async function savedProjects(n: number): Promise<MemoryStorage> {
  const storage = createMemoryStorage()
  const repo = createRepository({ storage, config })
  for (let revision = 1; revision <= n; revision++) await repo.save('project', project(revision), revision)
  return storage
}

const project = (revision: number): ProjectData => sampleProject(3, `revision ${revision}`)

function ready<T>(result: OpenResult<T>): ReadyDocument<T> {
  expect(result.status).toBe('ready')
  return result as ReadyDocument<T>
}

const writes = (storage: MemoryStorage, path: string) =>
  storage.log.filter((op) => op.call === 'writeAtomic' && op.step === 'rename' && op.to === path).length

describe('createWorkspaceSession', () => {
  describe('a new workspace', () => {
    it('opens empty documents, saves edits after the debounce, and gives them back on reopen', async () => {
      const { clock, memory, session } = setup()

      const settings = ready(await session.open('settings'))
      const opened = ready(await session.open('project'))

      expect(settings).toMatchObject({ source: 'empty', revision: 0, recovery: null, readOnly: null })
      expect(settings.data).toEqual(emptyDocumentData('settings', 0))
      expect(opened.data).toEqual(emptyDocumentData('project', 0))
      expect(memory.files()).toEqual({})

      session.change('project', project(1))
      session.change('settings', sampleSettings('light'))
      await clock.advance(150)

      expect(session.coordinator.aggregate().status).toBe('saved')
      const again = setup({ storage: memory })
      expect(ready(await again.session.open('project'))).toMatchObject({
        data: project(1),
        savedRevision: 1,
        source: 'primary',
      })
      expect(ready(await again.session.open('settings')).data).toEqual(sampleSettings('light'))
    })

    it('takes the data of a new document from open options', async () => {
      const { session } = setup()

      const opened = ready(await session.open('project', { emptyData: project(0) }))

      expect(opened.data).toEqual(project(0))
      expect(session.data('project')).toEqual(project(0))
    })

    it('returns the same load for a key opened twice and rejects a bad key', async () => {
      const { session } = setup()

      const [first, second] = await Promise.all([session.open('project'), session.open('project')])

      expect(second).toBe(first)
      await expect(session.open('../etc/passwd')).rejects.toMatchObject({ code: 'invalid-id' })
      expect(() => session.change('settings', sampleSettings())).toThrowError(
        expect.objectContaining({ code: 'not-found' }),
      )
    })
  })

  describe('loading before saving', () => {
    it('keeps an edit made while the document loads and writes nothing before the load ends', async () => {
      const storage = createMemoryStorage({ files: { 'project.json': fileOf('project', project(7), 7) } })
      let release = () => {}
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      let loadEnded = false
      const saves: { revision: number; afterLoad: boolean }[] = []
      const { clock, memory, session } = setup({
        storage,
        wrap: (repo) => ({
          ...repo,
          load: async (key) => {
            await gate
            const result = await repo.load(key)
            loadEnded = true
            return result
          },
          save: (key, data, revision, signal) => {
            saves.push({ revision, afterLoad: loadEnded })
            return repo.save(key, data, revision, signal)
          },
        }),
      })

      const opening = session.open('project')
      session.change('project', project(100))
      await clock.advance(5000)
      const flushed = session.flush('project')
      await clock.advance(5000)

      expect(saves).toEqual([])
      expect(session.coordinator.status('project').status).toBe('loading')
      expect(memory.readText('project.json')).toBe(new TextDecoder().decode(fileOf('project', project(7), 7)))

      release()
      const opened = ready(await opening)
      await clock.advance(0)

      expect(await flushed).toMatchObject({ result: 'saved' })
      expect(opened).toMatchObject({ editedWhileLoading: true, data: project(100), savedRevision: 7 })
      expect(saves).toEqual([{ revision: 8, afterLoad: true }])
      expect(await createRepository({ storage: memory }).load('project')).toMatchObject({
        ok: true,
        revision: 8,
        data: project(100),
      })
    })
  })

  describe('recovery', () => {
    it('opens from the newest good backup when the primary is damaged, and reports it', async () => {
      const storage = await savedProjects(3)
      // project.json holds revision 1 and its journal revisions 2 and 3: without the snapshot nothing replays.
      const damaged = storage.readText('project.json')!.replace('revision 1', 'revision X')
      expect(damaged).not.toBe(storage.readText('project.json'))
      await storage.writeAtomic('project.json', damaged)
      const journal = storage.readText('project.journal.jsonl')
      const { session, events, memory } = setup({ storage })

      const opened = ready(await session.open('project'))

      expect(opened).toMatchObject({ source: 'backup', data: project(2), savedRevision: 2 })
      expect(opened.recovery).toMatchObject({
        problem: { code: 'corrupt', details: { reason: 'checksum-mismatch' } },
        restoredFrom: { revision: 2 },
        needsUser: false,
      })
      const quarantined = opened.recovery!.quarantinedTo!
      expect(memory.readText(quarantined)).toBe(damaged)
      // Revision 3 is in no backup: its journal is kept too, never deleted.
      const kept = (await createRepository({ storage: memory }).listQuarantine()).filter((path) =>
        path.startsWith('.saveflow/quarantine/project.journal.'),
      )
      expect(kept.map((path) => memory.readText(path))).toEqual([journal])
      expect(session.recoveryReports()).toEqual([opened.recovery])
      expect(events.map((event) => event.type)).toEqual(['document.loaded', 'document.recovered'])
    })

    it('asks the user when nothing is valid; a rejected pick asks again, starting empty saves on the next edit', async () => {
      const storage = await savedProjects(3)
      for (const path of Object.keys(storage.files())) await storage.writeAtomic(path, '{"format":1,"kin')
      storage.clearLog()
      const { clock, memory, session, events } = setup({ storage })

      const asked = await session.open('project')

      expect(asked.status).toBe('needsUser')
      if (asked.status !== 'needsUser') return
      expect(asked.backups).toHaveLength(2)
      expect(asked.recovery.triedBackups.map((tried) => tried.rejectedFor?.code)).toEqual([
        'corrupt',
        'corrupt',
      ])
      expect(events.map((event) => event.type)).toEqual(['document.needsUser'])
      const again = await asked.chooseBackup(asked.backups[1]!.id)
      expect(again.status).toBe('needsUser')
      await expect(asked.chooseBackup('20990101T000000000Z-r1.json')).rejects.toMatchObject({
        code: 'invalid-id',
      })
      session.change('project', project(50))
      await clock.advance(5000)
      expect(writes(memory, 'project.json')).toBe(0)

      const empty = ready(await asked.startEmpty())

      expect(empty).toMatchObject({ source: 'empty', editedWhileLoading: true, data: project(50) })
      expect(empty.recovery).toMatchObject({ needsUser: true, startedEmpty: true })
      await clock.advance(150)
      expect(await createRepository({ storage: memory }).load('project')).toMatchObject({
        ok: true,
        data: project(50),
      })
      // The damaged snapshot and the journal that belonged to it, each kept once.
      const quarantined = await createRepository({ storage: memory }).listQuarantine()
      expect(quarantined).toEqual([
        expect.stringMatching(/^\.saveflow\/quarantine\/project\.\d{8}T[^/]*\.json$/),
        expect.stringMatching(/^\.saveflow\/quarantine\/project\.journal\.[^/]*\.jsonl$/),
      ])
      for (const path of quarantined) expect(memory.readText(path)).toBe('{"format":1,"kin')
    })

    it('opens a backup the user picks once it reads again (it failed only for a moment)', async () => {
      const storage = await savedProjects(2)
      await storage.writeAtomic('project.json', '')
      const { session, faulty } = setup({ storage, faults: true })
      faulty.addRule({ op: 'read', path: '.saveflow/backups', code: 'EIO', times: 1 })

      const asked = await session.open('project')
      expect(asked.status).toBe('needsUser')
      if (asked.status !== 'needsUser') return
      expect(asked.recovery.triedBackups[0]!.rejectedFor).toMatchObject({ code: 'io' })

      const picked = ready(await asked.chooseBackup(asked.backups[0]!.id))

      // The journal quarantined with the damaged snapshot starts at this backup: its save of revision 2 is replayed.
      expect(picked).toMatchObject({ source: 'backup', data: project(2), savedRevision: 2 })
      expect(await session.result('project')).toBe(picked)
    })

    it('fails without touching a file it cannot read, and opens it on retry', async () => {
      const storage = await savedProjects(1)
      const { session, faulty, memory, events } = setup({ storage, faults: true })
      const rule = faulty.addRule({ op: 'read', path: 'project.json', code: 'EACCES' })
      memory.clearLog()

      const failed = await session.open('project')

      expect(failed).toMatchObject({
        status: 'failed',
        error: { code: 'permission-denied', sysCode: 'EACCES' },
      })
      expect(memory.log).toEqual([])
      expect(events.at(-1)).toMatchObject({ type: 'document.loadFailed' })
      if (failed.status !== 'failed') return
      faulty.removeRule(rule)
      expect(ready(await failed.retry())).toMatchObject({ data: project(1), savedRevision: 1 })
    })

    it('opens a file from a newer app read-only and never writes it, even on flush', async () => {
      const bytes = fileOf('project', { futureShape: true }, 4, 3)
      const storage = createMemoryStorage({ files: { 'project.json': bytes } })
      const { clock, session, memory } = setup({ storage })

      const opened = ready(await session.open('project'))
      session.change('project', project(9))
      await clock.advance(5000)
      const flushed = await session.flush('project')

      expect(opened).toMatchObject({
        data: { futureShape: true },
        readOnly: { code: 'future-version', fileVersion: 3, supportedVersion: 1 },
      })
      expect(session.coordinator.status('project')).toMatchObject({
        status: 'readOnly',
        lastError: { code: 'future-version' },
      })
      expect(flushed).toMatchObject({ result: 'failed', error: { code: 'future-version' } })
      expect(memory.files()['project.json']).toEqual(bytes)
      expect(memory.log.filter((op) => op.step !== 'fsync' && op.step !== 'fsync-dir')).toEqual([])
    })
  })

  describe('restoring a backup', () => {
    it('replaces unsaved edits with the backup, keeps the replaced file as an undo backup, and saves on', async () => {
      const storage = await savedProjects(3)
      const { clock, session, events } = setup({ storage })
      ready(await session.open('project'))
      session.change('project', project(40))
      const [newest] = await session.listBackups('project')

      const restored = await session.restoreBackup('project', newest!.id)
      await clock.advance(5000)

      expect(restored).toMatchObject({ data: project(2), revision: 2, backupId: newest!.id })
      expect(session.data('project')).toEqual(project(2))
      expect(restored.undoId).not.toBeNull()
      expect(events.at(-1)).toMatchObject({ type: 'document.restored', restored })
      const reread = await createRepository({ storage }).load('project')
      expect(reread).toMatchObject({ ok: true, data: project(2) })

      const undone = await session.restoreBackup('project', restored.undoId!)
      await clock.advance(5000)

      expect(undone.data).toEqual(project(3))
      expect(await createRepository({ storage }).load('project')).toMatchObject({
        ok: true,
        data: project(3),
      })
      session.change('project', project(41))
      await clock.advance(150)
      expect(await createRepository({ storage }).load('project')).toMatchObject({
        ok: true,
        data: project(41),
      })
    })

    it('waits for a write in flight before it restores, so the write cannot land over the restore', async () => {
      const storage = await savedProjects(2)
      let release = () => {}
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      const calls: string[] = []
      const { clock, session } = setup({
        storage,
        wrap: (repo) => ({
          ...repo,
          save: async (key, data, revision, signal) => {
            calls.push('save')
            await held
            return repo.save(key, data, revision, signal)
          },
          restoreBackup: (key, backup) => {
            calls.push('restore')
            return repo.restoreBackup(key, backup)
          },
        }),
      })
      ready(await session.open('project'))
      const [backup] = await session.listBackups('project')
      session.change('project', project(30))
      await clock.advance(150)
      expect(session.coordinator.aggregate().writesInFlight).toBe(1)

      const restoring = session.restoreBackup('project', backup!.id)
      await clock.advance(0)
      expect(calls).toEqual(['save'])
      release()
      await restoring
      await clock.advance(5000)

      expect(calls.slice(0, 2)).toEqual(['save', 'restore'])
      expect(await createRepository({ storage }).load('project')).toMatchObject({
        ok: true,
        data: project(1),
      })
    })

    it('restores a document that waits for the user, through its load', async () => {
      const storage = await savedProjects(2)
      await storage.writeAtomic('project.json', 'garbage')
      const { session, faulty } = setup({ storage, faults: true })
      faulty.addRule({ op: 'read', path: '.saveflow/backups', code: 'EIO', times: 1 })
      const asked = await session.open('project')
      expect(asked.status).toBe('needsUser')
      const [backup] = await session.listBackups('project')

      const restored = await session.restoreBackup('project', backup!.id)

      // Backup 1 is where the quarantined journal starts: the restore replays its save of revision 2 too.
      expect(restored).toMatchObject({ data: project(2), revision: 2 })
      expect((await session.result('project')).status).toBe('ready')
    })
  })

  describe('save faults', () => {
    it('retries a full disk until space returns, then saves by itself', async () => {
      const { clock, session, faulty, memory } = setup({ faults: true })
      ready(await session.open('project'))
      const rule = faulty.addRule({ op: 'writeAtomic', code: 'ENOSPC' })

      session.change('project', project(1))
      await clock.advance(5000)

      expect(session.coordinator.status('project')).toMatchObject({
        status: 'retrying',
        lastError: { code: 'disk-full', hint: 'Free some space; saving resumes by itself.' },
      })
      expect(memory.files()['project.json']).toBeUndefined()
      faulty.removeRule(rule)
      await clock.advance(1000)
      expect(session.coordinator.status('project').status).toBe('saved')
      expect(await memory.listTempFiles()).toEqual([])
      expect(await createRepository({ storage: memory }).load('project')).toMatchObject({
        ok: true,
        data: project(1),
      })
    })

    it('fails at once on a permission error, keeps the old file, and saves on Retry', async () => {
      const storage = await savedProjects(1)
      const documentFiles = (disk: MemoryStorage) => {
        const files = disk.files()
        return [files['project.json'], files['project.journal.jsonl']]
      }
      const before = documentFiles(storage)
      const { clock, session, faulty, memory } = setup({ storage, faults: true })
      ready(await session.open('project'))
      // A save after the first appends to the project's journal.
      const rule = faulty.addRule({ op: 'append', code: 'EACCES' })

      session.change('project', project(2))
      await clock.advance(150)

      expect(session.coordinator.status('project')).toMatchObject({
        status: 'failed',
        attempt: 1,
        lastError: { code: 'permission-denied', hint: 'Check the folder permissions, then press Retry.' },
      })
      expect(documentFiles(memory)).toEqual(before)
      faulty.removeRule(rule)
      session.retry('project')
      await clock.advance(0)
      expect(session.coordinator.status('project').status).toBe('saved')
      expect(await createRepository({ storage: memory }).load('project')).toMatchObject({
        ok: true,
        data: project(2),
      })
    })
  })

  describe('a read-only session', () => {
    it('loads, but neither recovers nor writes anything', async () => {
      const storage = await savedProjects(2)
      await storage.writeAtomic('settings.json', 'damaged')
      storage.clearLog()
      const locked = { code: 'locked' as const, message: 'pid 7 holds it', hint: '', retry: 'never' as const }
      const { clock, session, memory } = setup({ storage, readOnly: locked })

      const opened = ready(await session.open('project'))
      const settings = await session.open('settings')
      session.change('project', project(9))
      await clock.advance(5000)

      expect(opened.data).toEqual(project(2))
      expect(settings).toMatchObject({
        status: 'failed',
        error: { code: 'locked', message: 'pid 7 holds it' },
      })
      expect(session.coordinator.status('project')).toMatchObject({ status: 'readOnly', lastError: locked })
      expect(memory.log).toEqual([])
    })
  })

  describe('read-only reasons', () => {
    it('refuses to restore a backup while another process holds the workspace', async () => {
      const storage = await savedProjects(2)
      storage.clearLog()
      const locked = { code: 'locked' as const, message: 'pid 7 holds it', hint: '', retry: 'never' as const }
      const { session, memory } = setup({ storage, readOnly: locked })
      ready(await session.open('project'))
      const [backup] = await session.listBackups('project')

      await expect(session.restoreBackup('project', backup!.id)).rejects.toMatchObject({ code: 'locked' })

      expect(session.data('project')).toEqual(project(2))
      expect(memory.log).toEqual([])
      expect(session.coordinator.aggregate().counts.readOnly).toBe(1)
    })

    it('keeps a newer-version file read-only when the workspace becomes writable', async () => {
      const bytes = fileOf('project', { futureShape: true }, 4, 3)
      const storage = createMemoryStorage({ files: { 'project.json': bytes } })
      const locked = { code: 'locked' as const, message: 'held', hint: '', retry: 'never' as const }
      const { clock, session, memory } = setup({ storage, readOnly: locked })
      ready(await session.open('project'))
      ready(await session.open('settings'))

      session.setReadOnly(null)
      session.change('project', project(1))
      session.change('settings', sampleSettings('dark'))
      await clock.advance(5000)

      expect(session.readOnly).toBeNull()
      expect(session.coordinator.status('project')).toMatchObject({
        status: 'readOnly',
        lastError: { code: 'future-version' },
      })
      expect(session.coordinator.status('settings').status).toBe('saved')
      expect(memory.files()['project.json']).toEqual(bytes)
    })

    it('makes a newer-version document writable once a backup of this version is restored over it', async () => {
      const storage = await savedProjects(2)
      const newer = fileOf('project', { futureShape: true }, 9, 3)
      await storage.writeAtomic('project.json', newer)
      const journal = storage.readText('project.journal.jsonl')
      const { clock, session } = setup({ storage })
      expect(ready(await session.open('project')).readOnly).not.toBeNull()
      const [backup] = await session.listBackups('project')

      const restored = await session.restoreBackup('project', backup!.id)
      session.change('project', project(20))
      await clock.advance(150)

      expect(restored.undoId).toBeNull()
      expect(session.coordinator.status('project').status).toBe('saved')
      expect(await createRepository({ storage }).load('project')).toMatchObject({
        ok: true,
        data: project(20),
      })
      // The newer file was not a valid backup of this version: a copy of it, and of the journal beside it, is kept
      // in quarantine.
      const quarantined = await createRepository({ storage }).listQuarantine()
      expect(quarantined.map((path) => storage.readText(path)).sort()).toEqual(
        [new TextDecoder().decode(newer), journal].sort(),
      )
    })
  })

  describe('close', () => {
    it('settles a load that never finished as aborted instead of leaving it waiting', async () => {
      const { session } = setup({
        wrap: (repo) => ({ ...repo, load: () => new Promise<never>(() => {}) }),
      })
      const opening = session.open('project')

      await session.close({ deadlineMs: 10 })

      const result = await opening
      expect(result).toMatchObject({ status: 'failed', error: { code: 'aborted' } })
      if (result.status === 'failed') expect(await result.retry()).toBe(result)
    })

    it('flushes unsaved edits, stops, and refuses to open more', async () => {
      const { session, memory } = setup()
      ready(await session.open('project'))
      session.change('project', project(5))

      const outcomes = await session.close({ deadlineMs: 1000 })

      expect(outcomes).toMatchObject([{ key: 'project', result: 'saved', savedRevision: 1 }])
      expect(await session.close()).toBe(outcomes)
      await expect(session.open('settings')).rejects.toMatchObject({ code: 'aborted' })
      expect(await createRepository({ storage: memory }).load('project')).toMatchObject({
        ok: true,
        data: project(5),
      })
    })

    it('flushes and forgets one document', async () => {
      const { session } = setup()
      ready(await session.open('conversation/c1'))
      session.change('conversation/c1', {
        ...(emptyDocumentData('conversation/c1', 0) as object),
        title: 'x',
      } as never)

      expect(await session.closeDocument('conversation/c1')).toMatchObject({ result: 'saved' })
      expect(session.keys()).toEqual([])
      await settle()
    })
  })
})
