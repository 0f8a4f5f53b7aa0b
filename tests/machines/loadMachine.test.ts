import { describe, expect, it } from 'vitest'
import { createActor, SimulatedClock, waitFor } from 'xstate'
import {
  BACKUP_READ_ATTEMPTS,
  BACKUP_RETRY_DELAY_MS,
  type BackupInfo,
  type LoadedDocument,
  type LoadOutcome,
  type LoadSteps,
  loadActorsFrom,
  loadMachine,
} from '../../machines/loadMachine'
import { SaveflowError, type SaveflowErrorCode } from '../../src/core/errors'

const KEY = 'project'
const EMPTY = { nodes: [] }
const VERSION = 2

function doc(revision: number, schemaVersion = VERSION, savedAt = revision * 1000): LoadedDocument {
  return { data: { revision }, revision, schemaVersion, savedAt }
}

function ok(document: LoadedDocument): LoadOutcome {
  return { ok: true, document }
}

function fail(code: SaveflowErrorCode, details?: Record<string, unknown>): LoadOutcome {
  return { ok: false, error: new SaveflowError(code, details === undefined ? {} : { details }).toJSON() }
}

const B1: BackupInfo = { id: 'b1', savedAt: 3000, revision: 3 }
const B2: BackupInfo = { id: 'b2', savedAt: 2000, revision: 2 }
const B3: BackupInfo = { id: 'b3', savedAt: 1000, revision: 1 }

interface Call {
  step: keyof LoadSteps
  input: unknown
}

/**
 * Fake steps: each one answers from the given overrides (default: no file, no backups, every write succeeds) and
 * records its call, so tests can assert what was done and in which order.
 */
function fakeSteps(overrides: Partial<LoadSteps> = {}) {
  const calls: Call[] = []
  const defaults: LoadSteps = {
    loadPrimary: async () => fail('not-found'),
    listBackups: async () => [],
    loadBackup: async () => fail('not-found'),
    migrate: async ({ data }) => ({ ok: true, data: { migrated: data } }),
    quarantine: async () => ({ quarantinedTo: '.saveflow/quarantine/project.json.1' }),
    restoreBackup: async () => {},
  }
  const steps = {} as LoadSteps
  for (const name of Object.keys(defaults) as (keyof LoadSteps)[]) {
    const impl = (overrides[name] ?? defaults[name]) as (
      input: unknown,
      signal: AbortSignal,
    ) => Promise<unknown>
    ;(steps as unknown as Record<string, unknown>)[name] = (input: unknown, signal: AbortSignal) => {
      calls.push({ step: name, input })
      return impl(input, signal)
    }
  }
  return { steps, calls, names: () => calls.map((call) => call.step) }
}

function start(steps: LoadSteps, schemaVersion = VERSION, clock?: SimulatedClock) {
  const actor = createActor(loadMachine.provide({ actors: loadActorsFrom(steps) }), {
    input: { key: KEY, schemaVersion, emptyData: EMPTY },
    ...(clock === undefined ? {} : { clock }),
  })
  actor.start()
  return actor
}

type LoadActor = ReturnType<typeof start>

function settled(actor: LoadActor) {
  return waitFor(actor, (s) => s.status === 'done' || s.matches('needsUser') || s.matches('failed'), {
    timeout: 2000,
  })
}

describe('loadMachine', () => {
  it('loads a valid primary as it is', async () => {
    const fake = fakeSteps({ loadPrimary: async () => ok(doc(7)) })
    const snapshot = await settled(start(fake.steps))

    expect(snapshot.status).toBe('done')
    expect(snapshot.output).toEqual({
      key: KEY,
      data: { revision: 7 },
      revision: 7,
      schemaVersion: VERSION,
      savedAt: 7000,
      source: 'primary',
      migratedFrom: null,
      readOnly: null,
      recovery: null,
    })
    expect(snapshot.context.result).toEqual(snapshot.output)
    expect(fake.names()).toEqual(['loadPrimary'])
    expect(fake.calls[0]?.input).toEqual({ key: KEY })
  })

  it('starts empty on the first run: no file and no backups', async () => {
    const fake = fakeSteps()
    const snapshot = await settled(start(fake.steps))

    expect(snapshot.output).toMatchObject({ data: EMPTY, revision: 0, source: 'empty', recovery: null })
    expect(fake.names()).toEqual(['loadPrimary', 'listBackups'])
  })

  it('restores the newest backup when the primary is missing but backups exist, without quarantining', async () => {
    const fake = fakeSteps({ listBackups: async () => [B1], loadBackup: async () => ok(doc(3)) })
    const snapshot = await settled(start(fake.steps))

    expect(snapshot.output).toMatchObject({ source: 'backup', revision: 3, data: { revision: 3 } })
    expect(snapshot.output?.recovery).toMatchObject({
      problem: { code: 'not-found' },
      restoredFrom: B1,
      needsUser: false,
    })
    expect(snapshot.output?.recovery).not.toHaveProperty('quarantinedTo')
    expect(fake.names()).toEqual(['loadPrimary', 'listBackups', 'loadBackup', 'restoreBackup'])
  })

  it('reports where a missing primary went when the step knows it was quarantined earlier', async () => {
    const moved = '.saveflow/quarantine/project.20260115T100000000Z-checksum-mismatch.json'
    const fake = fakeSteps({
      loadPrimary: async () => fail('not-found', { quarantined: moved }),
      listBackups: async () => [B1],
      loadBackup: async () => ok(doc(3)),
    })
    const snapshot = await settled(start(fake.steps))

    expect(snapshot.output?.recovery).toMatchObject({ problem: { code: 'not-found' }, quarantinedTo: moved })
    // Nothing is moved again: the file is already in quarantine.
    expect(fake.names()).toEqual(['loadPrimary', 'listBackups', 'loadBackup', 'restoreBackup'])
  })

  it('quarantines a corrupt primary first, then verifies and restores a backup', async () => {
    const fake = fakeSteps({
      loadPrimary: async () => fail('corrupt'),
      listBackups: async () => [B1],
      loadBackup: async () => ok(doc(3)),
    })
    const snapshot = await settled(start(fake.steps))

    expect(fake.names()).toEqual(['loadPrimary', 'quarantine', 'listBackups', 'loadBackup', 'restoreBackup'])
    expect(fake.calls[1]?.input).toMatchObject({ key: KEY, reason: { code: 'corrupt' } })
    expect(fake.calls[3]?.input).toEqual({ key: KEY, backupId: 'b1' })
    expect(snapshot.output).toMatchObject({ source: 'backup', revision: 3, readOnly: null })
    expect(snapshot.output?.recovery).toEqual({
      key: KEY,
      problem: expect.objectContaining({ code: 'corrupt' }),
      quarantinedTo: '.saveflow/quarantine/project.json.1',
      restoredFrom: B1,
      triedBackups: [{ backup: B1, rejectedFor: null }],
      needsUser: false,
      startedEmpty: false,
    })
  })

  it('reports the revision reached when saves after the backup were replayed on it', async () => {
    const fake = fakeSteps({
      loadPrimary: async () => fail('corrupt'),
      listBackups: async () => [B1],
      loadBackup: async () => ok(doc(5)),
    })
    const snapshot = await settled(start(fake.steps))

    expect(snapshot.output).toMatchObject({ source: 'backup', revision: 5 })
    expect(snapshot.output?.recovery).toMatchObject({ restoredFrom: B1, replayedTo: 5 })
  })

  it('tries backups newest first and passes over a corrupt one', async () => {
    const fake = fakeSteps({
      loadPrimary: async () => fail('corrupt'),
      // Listed oldest first on purpose: the machine orders them itself.
      listBackups: async () => [B3, B1, B2],
      loadBackup: async ({ backupId }) => (backupId === 'b1' ? fail('corrupt') : ok(doc(2))),
    })
    const snapshot = await settled(start(fake.steps))

    const loaded = fake.calls.filter((call) => call.step === 'loadBackup').map((call) => call.input)
    expect(loaded).toEqual([
      { key: KEY, backupId: 'b1' },
      { key: KEY, backupId: 'b2' },
    ])
    expect(snapshot.output?.recovery?.restoredFrom).toEqual(B2)
    expect(snapshot.output?.recovery?.triedBackups).toEqual([
      { backup: B1, rejectedFor: expect.objectContaining({ code: 'corrupt' }) },
      { backup: B2, rejectedFor: null },
    ])
    expect(fake.calls.filter((call) => call.step === 'restoreBackup').map((call) => call.input)).toEqual([
      { key: KEY, backupId: 'b2' },
    ])
  })

  describe('a backup whose read fails for a moment', () => {
    const busy = () => fail('busy')
    const ticks = async () => {
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve))
    }
    const reads = (fake: ReturnType<typeof fakeSteps>) =>
      fake.calls
        .filter((call) => call.step === 'loadBackup')
        .map((call) => (call.input as { backupId: string }).backupId)

    it('is read again after a delay of the actor clock and restored, not passed over for an older one', async () => {
      let b1Reads = 0
      const fake = fakeSteps({
        loadPrimary: async () => fail('corrupt'),
        listBackups: async () => [B1, B2],
        loadBackup: async ({ backupId }) => {
          if (backupId !== 'b1') return ok(doc(2))
          b1Reads += 1
          return b1Reads === 1 ? busy() : ok(doc(3))
        },
      })
      const clock = new SimulatedClock()
      const actor = start(fake.steps, VERSION, clock)
      await ticks()

      // Waiting on the clock: no second read yet, and the older backup is not touched.
      expect(actor.getSnapshot().value).toEqual({ recovering: 'retryingBackup' })
      expect(reads(fake)).toEqual(['b1'])
      clock.increment(BACKUP_RETRY_DELAY_MS - 1)
      await ticks()
      expect(reads(fake)).toEqual(['b1'])
      clock.increment(1)
      const snapshot = await settled(actor)

      expect(reads(fake)).toEqual(['b1', 'b1'])
      expect(snapshot.output).toMatchObject({ source: 'backup', revision: 3 })
      expect(snapshot.output?.recovery?.restoredFrom).toEqual(B1)
      expect(snapshot.output?.recovery?.triedBackups).toEqual([{ backup: B1, rejectedFor: null }])
    })

    it(`is passed over after ${BACKUP_READ_ATTEMPTS} busy reads, rejected for busy`, async () => {
      const fake = fakeSteps({
        loadPrimary: async () => fail('corrupt'),
        listBackups: async () => [B1, B2],
        loadBackup: async ({ backupId }) => (backupId === 'b1' ? busy() : ok(doc(2))),
      })
      const clock = new SimulatedClock()
      const actor = start(fake.steps, VERSION, clock)
      for (let retry = 1; retry < BACKUP_READ_ATTEMPTS; retry++) {
        await ticks()
        expect(actor.getSnapshot().value).toEqual({ recovering: 'retryingBackup' })
        // The delay grows with each retry.
        clock.increment(BACKUP_RETRY_DELAY_MS * retry)
      }
      const snapshot = await settled(actor)

      expect(reads(fake)).toEqual([...Array(BACKUP_READ_ATTEMPTS).fill('b1'), 'b2'])
      expect(snapshot.output?.recovery?.restoredFrom).toEqual(B2)
      expect(snapshot.output?.recovery?.triedBackups).toEqual([
        { backup: B1, rejectedFor: expect.objectContaining({ code: 'busy', retry: 'fast' }) },
        { backup: B2, rejectedFor: null },
      ])
    })

    it.each([
      ['corrupt', 'corrupt'],
      ['permission-denied', 'permission-denied'],
      ['io', 'io'],
    ] as const)('is passed over at once when the read fails with %s', async (_, code) => {
      const fake = fakeSteps({
        loadPrimary: async () => fail('corrupt'),
        listBackups: async () => [B1, B2],
        loadBackup: async ({ backupId }) => (backupId === 'b1' ? fail(code) : ok(doc(2))),
      })
      // No clock moves: a retry would hang here.
      const snapshot = await settled(start(fake.steps, VERSION, new SimulatedClock()))

      expect(reads(fake)).toEqual(['b1', 'b2'])
      expect(snapshot.output?.recovery?.restoredFrom).toEqual(B2)
    })

    it('counts the reads of each backup anew: the next one gets its own retries', async () => {
      const fake = fakeSteps({
        loadPrimary: async () => fail('corrupt'),
        listBackups: async () => [B1, B2],
        loadBackup: async ({ backupId }) =>
          backupId === 'b1' || reads(fake).filter((id) => id === 'b2').length < 2 ? busy() : ok(doc(2)),
      })
      const clock = new SimulatedClock()
      const actor = start(fake.steps, VERSION, clock)
      for (let i = 0; i < BACKUP_READ_ATTEMPTS; i++) {
        await ticks()
        clock.increment(BACKUP_RETRY_DELAY_MS * BACKUP_READ_ATTEMPTS)
      }
      const snapshot = await settled(actor)

      expect(reads(fake)).toEqual([...Array(BACKUP_READ_ATTEMPTS).fill('b1'), 'b2', 'b2'])
      expect(snapshot.output?.recovery?.restoredFrom).toEqual(B2)
    })

    it('is read again when the user picked it, its count started over', async () => {
      let b2Busy = 1
      const fake = fakeSteps({
        loadPrimary: async () => fail('corrupt'),
        listBackups: async () => [B1, B2],
        loadBackup: async ({ backupId }) => {
          if (backupId === 'b1') return fail('corrupt')
          if (b2Busy === 0) return ok(doc(2))
          b2Busy -= 1
          return busy()
        },
      })
      const clock = new SimulatedClock()
      const actor = start(fake.steps, VERSION, clock)
      // b2 is busy once, then fine: restored automatically after one retry.
      await ticks()
      clock.increment(BACKUP_RETRY_DELAY_MS)
      expect((await settled(actor)).output?.recovery?.restoredFrom).toEqual(B2)

      // The user's pick goes through the same retries.
      b2Busy = BACKUP_READ_ATTEMPTS
      const picking = start(fake.steps, VERSION, clock)
      for (let i = 0; i < BACKUP_READ_ATTEMPTS; i++) {
        await ticks()
        clock.increment(BACKUP_RETRY_DELAY_MS * BACKUP_READ_ATTEMPTS)
      }
      expect((await settled(picking)).value).toBe('needsUser')
      b2Busy = 1
      picking.send({ type: 'load.useBackup', backupId: 'b2' })
      await ticks()
      expect(picking.getSnapshot().value).toEqual({ recovering: 'retryingBackup' })
      clock.increment(BACKUP_RETRY_DELAY_MS)
      const picked = await waitFor(picking, (s) => s.status === 'done', { timeout: 2000 })
      expect(picked.output?.recovery).toMatchObject({ restoredFrom: B2, needsUser: true })
    })
  })

  it('breaks a tie of backup times by the higher revision', async () => {
    const older = { id: 'r4', savedAt: 5000, revision: 4 }
    const newer = { id: 'r5', savedAt: 5000, revision: 5 }
    const fake = fakeSteps({ listBackups: async () => [older, newer], loadBackup: async () => ok(doc(5)) })
    const snapshot = await settled(start(fake.steps))

    expect(snapshot.output?.recovery?.restoredFrom).toEqual(newer)
    expect(snapshot.context.backups).toEqual([newer, older])
  })

  it('asks the user when the primary is corrupt and there are no backups', async () => {
    const fake = fakeSteps({ loadPrimary: async () => fail('invalid-data') })
    const snapshot = await settled(start(fake.steps))

    expect(snapshot.value).toBe('needsUser')
    expect(snapshot.context.needsUser).toBe(true)
    expect(snapshot.context.problem?.code).toBe('invalid-data')
    expect(fake.names()).toEqual(['loadPrimary', 'quarantine', 'listBackups'])
  })

  describe('when every backup is bad', () => {
    function allBad(extra: Partial<LoadSteps> = {}) {
      return fakeSteps({
        loadPrimary: async () => fail('corrupt'),
        listBackups: async () => [B1, B2],
        loadBackup: async () => fail('corrupt'),
        ...extra,
      })
    }

    it('waits for the user and writes nothing meanwhile', async () => {
      const fake = allBad()
      const snapshot = await settled(start(fake.steps))

      expect(snapshot.value).toBe('needsUser')
      expect(snapshot.context.backups).toEqual([B1, B2])
      expect(snapshot.context.triedBackups.map((tried) => tried.backup.id)).toEqual(['b1', 'b2'])
      expect(fake.names()).not.toContain('restoreBackup')
      expect(fake.names().filter((name) => name === 'quarantine')).toHaveLength(1)
    })

    it('restores the backup the user picks once it verifies', async () => {
      let b2Repaired = false
      const fake = allBad({
        loadBackup: async ({ backupId }) => (backupId === 'b2' && b2Repaired ? ok(doc(2)) : fail('corrupt')),
      })
      const actor = start(fake.steps)
      await settled(actor)

      b2Repaired = true
      actor.send({ type: 'load.useBackup', backupId: 'b2' })
      const snapshot = await waitFor(actor, (s) => s.status === 'done')

      expect(snapshot.output).toMatchObject({ source: 'backup', revision: 2 })
      expect(snapshot.output?.recovery).toMatchObject({
        restoredFrom: B2,
        needsUser: true,
        startedEmpty: false,
      })
      expect(fake.calls.at(-1)).toEqual({ step: 'restoreBackup', input: { key: KEY, backupId: 'b2' } })
    })

    it('returns to the user when the picked backup is bad too', async () => {
      const fake = allBad()
      const actor = start(fake.steps)
      await settled(actor)

      actor.send({ type: 'load.useBackup', backupId: 'b1' })
      const snapshot = await waitFor(
        actor,
        (s) => s.matches('needsUser') && s.context.triedBackups.length === 3,
      )

      expect(snapshot.context.triedBackups.at(-1)?.backup).toEqual(B1)
      expect(fake.names()).not.toContain('restoreBackup')
    })

    it('ignores a backup id that was not listed', async () => {
      const fake = allBad()
      const actor = start(fake.steps)
      await settled(actor)
      const callsBefore = fake.calls.length

      actor.send({ type: 'load.useBackup', backupId: '../../etc/passwd' })

      expect(actor.getSnapshot().value).toBe('needsUser')
      expect(fake.calls).toHaveLength(callsBefore)
    })

    it('starts empty when the user says so, keeping the report', async () => {
      const fake = allBad()
      const actor = start(fake.steps)
      await settled(actor)

      actor.send({ type: 'load.startEmpty' })
      const snapshot = actor.getSnapshot()

      expect(snapshot.status).toBe('done')
      expect(snapshot.output).toMatchObject({ data: EMPTY, revision: 0, source: 'empty', readOnly: null })
      expect(snapshot.output?.recovery).toMatchObject({
        problem: { code: 'corrupt' },
        quarantinedTo: '.saveflow/quarantine/project.json.1',
        needsUser: true,
        startedEmpty: true,
      })
      expect(snapshot.output?.recovery?.triedBackups).toHaveLength(2)
      expect(fake.names()).not.toContain('restoreBackup')
    })

    it('reads the primary again on retry and keeps what happened before in the report', async () => {
      let fileBack = false
      const fake = allBad({ loadPrimary: async () => (fileBack ? ok(doc(9)) : fail('corrupt')) })
      const actor = start(fake.steps)
      await settled(actor)

      fileBack = true
      actor.send({ type: 'load.retry' })
      const snapshot = await waitFor(actor, (s) => s.status === 'done')

      expect(snapshot.output).toMatchObject({ source: 'primary', revision: 9 })
      expect(snapshot.output?.recovery).toMatchObject({
        problem: { code: 'corrupt' },
        quarantinedTo: '.saveflow/quarantine/project.json.1',
        triedBackups: [],
        needsUser: true,
      })
    })

    it('does not mistake a retry after a quarantine for a first run', async () => {
      let gone = false
      const fake = allBad({
        loadPrimary: async () => (gone ? fail('not-found') : fail('corrupt')),
        listBackups: async () => (gone ? [] : [B1, B2]),
      })
      const actor = start(fake.steps)
      await settled(actor)

      // The primary is in quarantine and the backups were deleted by hand: there was data, so ask again.
      gone = true
      actor.send({ type: 'load.retry' })
      const snapshot = await waitFor(
        actor,
        (s) => s.matches('needsUser') && s.context.triedBackups.length === 0,
      )

      expect(snapshot.context.problem?.code).toBe('corrupt')
      expect(snapshot.context.backups).toEqual([])
      expect(fake.names().filter((name) => name === 'loadPrimary')).toHaveLength(2)
    })
  })

  describe('migrations', () => {
    it('migrates an older primary and validates nothing else', async () => {
      const fake = fakeSteps({ loadPrimary: async () => ok(doc(4, 1)) })
      const snapshot = await settled(start(fake.steps))

      expect(fake.calls[1]).toEqual({
        step: 'migrate',
        input: { key: KEY, data: { revision: 4 }, fromVersion: 1, toVersion: VERSION },
      })
      expect(snapshot.output).toMatchObject({
        data: { migrated: { revision: 4 } },
        revision: 4,
        schemaVersion: VERSION,
        migratedFrom: 1,
        source: 'primary',
        recovery: null,
      })
    })

    it('reports a migration the load step already did and does not migrate again', async () => {
      const fake = fakeSteps({ loadPrimary: async () => ok({ ...doc(4), migratedFrom: 1 }) })
      const snapshot = await settled(start(fake.steps))

      expect(snapshot.output).toMatchObject({
        data: { revision: 4 },
        schemaVersion: VERSION,
        migratedFrom: 1,
      })
      expect(fake.names()).toEqual(['loadPrimary'])
    })

    it('treats data that cannot be migrated as damaged: quarantined, then backups', async () => {
      const fake = fakeSteps({
        loadPrimary: async () => ok(doc(4, 1)),
        migrate: async ({ data }) =>
          (data as { revision: number }).revision === 4
            ? { ok: false, error: new SaveflowError('invalid-data').toJSON() }
            : { ok: true, data },
        listBackups: async () => [B1],
        loadBackup: async () => ok(doc(3, 1)),
      })
      const snapshot = await settled(start(fake.steps))

      expect(fake.names()).toEqual([
        'loadPrimary',
        'migrate',
        'quarantine',
        'listBackups',
        'loadBackup',
        'migrate',
        'restoreBackup',
      ])
      expect(snapshot.output).toMatchObject({ source: 'backup', migratedFrom: 1, schemaVersion: VERSION })
      expect(snapshot.output?.recovery?.problem.code).toBe('invalid-data')
    })

    it('fails without quarantining when the migration step itself throws an I/O error', async () => {
      const fake = fakeSteps({
        loadPrimary: async () => ok(doc(4, 1)),
        migrate: async () => {
          throw new SaveflowError('io', { sysCode: 'EIO' })
        },
      })
      const snapshot = await settled(start(fake.steps))

      expect(snapshot.value).toBe('failed')
      expect(snapshot.context.error).toMatchObject({ code: 'io', sysCode: 'EIO' })
      expect(fake.names()).toEqual(['loadPrimary', 'migrate'])
    })

    it('passes over a backup whose migration fails', async () => {
      const fake = fakeSteps({
        loadPrimary: async () => fail('corrupt'),
        listBackups: async () => [B1, B2],
        loadBackup: async ({ backupId }) => (backupId === 'b1' ? ok(doc(3, 1)) : ok(doc(2))),
        migrate: async () => {
          throw new SaveflowError('invalid-data')
        },
      })
      const snapshot = await settled(start(fake.steps))

      expect(snapshot.output?.recovery?.restoredFrom).toEqual(B2)
      expect(snapshot.output?.recovery?.triedBackups[0]).toEqual({
        backup: B1,
        rejectedFor: expect.objectContaining({ code: 'invalid-data' }),
      })
      expect(snapshot.output?.migratedFrom).toBeNull()
    })
  })

  describe('future versions', () => {
    it('opens a newer primary read-only, as it is, without migrating or writing', async () => {
      const fake = fakeSteps({ loadPrimary: async () => ok(doc(5, 3)) })
      const snapshot = await settled(start(fake.steps))

      expect(snapshot.output).toMatchObject({
        data: { revision: 5 },
        schemaVersion: 3,
        source: 'primary',
        readOnly: { code: 'future-version', fileVersion: 3, supportedVersion: VERSION },
        recovery: null,
      })
      expect(fake.names()).toEqual(['loadPrimary'])
    })

    it('opens read-only and empty when the newer file cannot even be decoded', async () => {
      const withVersion = fakeSteps({ loadPrimary: async () => fail('future-version', { schemaVersion: 7 }) })
      const withoutVersion = fakeSteps({ loadPrimary: async () => fail('future-version') })

      const a = await settled(start(withVersion.steps))
      const b = await settled(start(withoutVersion.steps))

      expect(a.output).toMatchObject({ data: EMPTY, source: 'empty', readOnly: { fileVersion: 7 } })
      expect(b.output?.readOnly).toEqual({
        code: 'future-version',
        fileVersion: null,
        supportedVersion: VERSION,
      })
      expect(withVersion.names()).toEqual(['loadPrimary'])
    })

    it('never restores a backup written by a newer version', async () => {
      const fake = fakeSteps({
        loadPrimary: async () => fail('corrupt'),
        listBackups: async () => [B1, B2],
        loadBackup: async ({ backupId }) => (backupId === 'b1' ? ok(doc(3, 3)) : ok(doc(2))),
      })
      const snapshot = await settled(start(fake.steps))

      expect(snapshot.output?.recovery?.triedBackups[0]).toEqual({
        backup: B1,
        rejectedFor: { code: 'future-version', fileVersion: 3, supportedVersion: VERSION },
      })
      expect(snapshot.output?.recovery?.restoredFrom).toEqual(B2)
    })
  })

  describe('I/O errors', () => {
    it('fails with a typed error and does not quarantine a file it could not read (EACCES)', async () => {
      const fake = fakeSteps({
        loadPrimary: async () => {
          throw new SaveflowError('permission-denied', { sysCode: 'EACCES' })
        },
      })
      const snapshot = await settled(start(fake.steps))

      expect(snapshot.value).toBe('failed')
      expect(snapshot.context.error).toMatchObject({
        code: 'permission-denied',
        sysCode: 'EACCES',
        retry: 'never',
      })
      expect(snapshot.context.problem).toBeNull()
      expect(fake.names()).toEqual(['loadPrimary'])
    })

    it('treats an { ok: false } I/O outcome like a rejection', async () => {
      const fake = fakeSteps({ loadPrimary: async () => fail('too-large') })
      const snapshot = await settled(start(fake.steps))

      expect(snapshot.value).toBe('failed')
      expect(snapshot.context.error?.code).toBe('too-large')
      expect(fake.names()).toEqual(['loadPrimary'])
    })

    it('loads on retry once the file can be read', async () => {
      let denied = true
      const fake = fakeSteps({
        loadPrimary: async () => {
          if (denied) throw new SaveflowError('permission-denied', { sysCode: 'EACCES' })
          return ok(doc(2))
        },
      })
      const actor = start(fake.steps)
      await settled(actor)

      denied = false
      actor.send({ type: 'load.retry' })
      const snapshot = await waitFor(actor, (s) => s.status === 'done')

      expect(snapshot.output).toMatchObject({ source: 'primary', revision: 2, recovery: null })
      expect(snapshot.context.error).toBeNull()
    })

    it('reports a raw system error as io with its errno code, never as corrupt', async () => {
      const raw = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })
      const fake = fakeSteps({ loadPrimary: () => Promise.reject(raw) })
      const snapshot = await settled(start(fake.steps))

      expect(snapshot.context.error).toEqual({
        code: 'io',
        message: 'EACCES: permission denied',
        hint: '',
        retry: 'normal',
        sysCode: 'EACCES',
      })
      expect(fake.names()).not.toContain('quarantine')
    })

    it('reports a thrown non-error as io', async () => {
      const fake = fakeSteps({ loadPrimary: () => Promise.reject('boom') })
      const snapshot = await settled(start(fake.steps))

      expect(snapshot.context.error).toMatchObject({ code: 'io', message: 'boom' })
      expect(snapshot.context.error).not.toHaveProperty('sysCode')
    })

    it('stops before any restore when the damaged file cannot be moved away', async () => {
      let moved = 0
      const fake = fakeSteps({
        loadPrimary: async () => fail('corrupt'),
        quarantine: async () => {
          moved += 1
          if (moved === 1) throw new SaveflowError('permission-denied', { sysCode: 'EPERM' })
          return { quarantinedTo: 'q/2' }
        },
        listBackups: async () => [B1],
        loadBackup: async () => ok(doc(3)),
      })
      const actor = start(fake.steps)
      const failed = await settled(actor)

      expect(failed.value).toBe('failed')
      expect(failed.context.error?.sysCode).toBe('EPERM')
      expect(fake.names()).toEqual(['loadPrimary', 'quarantine'])

      actor.send({ type: 'load.retry' })
      const snapshot = await waitFor(actor, (s) => s.status === 'done')
      expect(snapshot.output?.recovery).toMatchObject({ quarantinedTo: 'q/2', restoredFrom: B1 })
    })

    it('fails when the backups cannot be listed', async () => {
      const fake = fakeSteps({
        loadPrimary: async () => fail('corrupt'),
        listBackups: async () => {
          throw new SaveflowError('io', { sysCode: 'EIO' })
        },
      })
      const snapshot = await settled(start(fake.steps))

      expect(snapshot.value).toBe('failed')
      expect(snapshot.context.error?.code).toBe('io')
    })

    it('recovers again after a failed restore, because the primary stays quarantined', async () => {
      let restores = 0
      let quarantined = false
      const fake = fakeSteps({
        loadPrimary: async () => (quarantined ? fail('not-found') : fail('corrupt')),
        quarantine: async () => {
          quarantined = true
          return { quarantinedTo: 'q/1' }
        },
        listBackups: async () => [B1],
        loadBackup: async () => ok(doc(3)),
        restoreBackup: async () => {
          restores += 1
          if (restores === 1) throw new SaveflowError('disk-full', { sysCode: 'ENOSPC' })
        },
      })
      const actor = start(fake.steps)
      const failed = await settled(actor)
      expect(failed.value).toBe('failed')
      expect(failed.context.error?.code).toBe('disk-full')

      actor.send({ type: 'load.retry' })
      const snapshot = await waitFor(actor, (s) => s.status === 'done')

      // The second pass finds no primary; the report still names the first problem and where the file went.
      expect(snapshot.output?.recovery).toMatchObject({
        problem: { code: 'corrupt' },
        quarantinedTo: 'q/1',
        restoredFrom: B1,
      })
      expect(fake.names().filter((name) => name === 'quarantine')).toHaveLength(1)
    })
  })

  it('fails with a message naming a step that was not provided', async () => {
    const actor = createActor(loadMachine, { input: { key: KEY, schemaVersion: 1, emptyData: null } })
    actor.start()
    const snapshot = await settled(actor)

    expect(snapshot.value).toBe('failed')
    expect(snapshot.context.error?.message).toContain('"loadPrimary"')
  })

  it('aborts the running step when the load actor stops', async () => {
    let seen: AbortSignal | undefined
    const fake = fakeSteps({
      loadPrimary: (_input, signal) => {
        seen = signal
        return new Promise(() => {})
      },
    })
    const actor = start(fake.steps)
    await waitFor(actor, () => seen !== undefined)

    actor.stop()

    expect(seen?.aborted).toBe(true)
  })
})
