import { describe, expect, it } from 'vitest'
import { type AnyTransitionDefinition, createActor, SimulatedClock } from 'xstate'
import { getAdjacencyMap, getShortestPaths, getStateNodes } from 'xstate/graph'
import {
  type BackupInfo,
  type LoadedDocument,
  type LoadSteps,
  loadActorsFrom,
  loadMachine,
} from '../../machines/loadMachine'
import { SaveflowError } from '../../src/core/errors'
import {
  type LoadModelContext,
  type LoadModelEvent,
  type LoadModelState,
  loadModel,
  MODEL_STATES,
} from '../models/loadModel'

const VERSION = 3
const KEY = 'settings'
const BACKUPS: BackupInfo[] = [
  { id: 'b1', savedAt: 2000, revision: 2 },
  { id: 'b2', savedAt: 1000, revision: 1 },
]

function doc(schemaVersion: number): LoadedDocument {
  return { data: { v: schemaVersion }, revision: 5, schemaVersion, savedAt: 5000 }
}

const error = (code: 'not-found' | 'corrupt' | 'future-version' | 'invalid-data') =>
  new SaveflowError(code).toJSON()

interface Pending {
  step: keyof LoadSteps
  input: Record<string, unknown>
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
}

/**
 * The disk, scripted one answer at a time: every step call waits until the path says what the disk answers. It also
 * keeps what the disk holds, to check the safety rules on every path: a damaged primary is moved away before any
 * restore, only a damaged file is ever quarantined, and only a backup that verified is ever restored.
 */
function scriptedDisk() {
  let pending: Pending | null = null
  const disk = {
    primaryDamaged: false,
    quarantines: 0,
    verified: new Set<string>(),
    restored: [] as string[],
    /** The backup whose answer came last, and whether its migration is the one waiting. */
    candidate: null as string | null,
    migratingBackup: false,
    violations: [] as string[],
  }
  const call =
    (step: keyof LoadSteps) =>
    (input: unknown): Promise<never> =>
      new Promise((resolve, reject) => {
        // Recorded rather than thrown: a throw here would only reject the step, which the machine handles.
        if (step === 'quarantine') {
          // Rule: only a file found damaged is quarantined; an unreadable one is left alone.
          if (!disk.primaryDamaged) disk.violations.push('quarantined a file that was not found damaged')
          disk.quarantines += 1
        }
        if (step === 'restoreBackup') {
          // Rule: nothing damaged is overwritten, and only a verified backup reaches the primary.
          const backupId = (input as { backupId: string }).backupId
          if (disk.primaryDamaged) disk.violations.push('restored over a damaged primary')
          if (!disk.verified.has(backupId)) disk.violations.push(`restored ${backupId}, which did not verify`)
          disk.restored.push(backupId)
        }
        if (pending !== null) disk.violations.push(`${step} started while ${pending.step} was running`)
        pending = { step, input: input as Record<string, unknown>, resolve: resolve as never, reject }
      })
  const steps: LoadSteps = {
    loadPrimary: call('loadPrimary'),
    listBackups: call('listBackups'),
    loadBackup: call('loadBackup'),
    migrate: call('migrate'),
    quarantine: call('quarantine'),
    restoreBackup: call('restoreBackup'),
  }

  /** What the disk answers to the waiting step for one environment move; updates what the disk holds. */
  function responseFor(event: LoadModelEvent['type']): { value: unknown } | { reason: unknown } {
    switch (event) {
      case 'primary.valid':
        return { value: { ok: true, document: doc(VERSION) } }
      case 'primary.old':
        return { value: { ok: true, document: doc(VERSION - 1) } }
      case 'primary.newer':
        return { value: { ok: true, document: doc(VERSION + 1) } }
      case 'primary.absent':
        return { value: { ok: false, error: error('not-found') } }
      case 'primary.corrupt':
        disk.primaryDamaged = true
        return { value: { ok: false, error: error('corrupt') } }
      case 'primary.undecodableNewer':
        return { value: { ok: false, error: error('future-version') } }
      case 'primary.unreadable':
        return { reason: new SaveflowError('permission-denied', { sysCode: 'EACCES' }) }
      case 'migrate.ok':
        if (disk.migratingBackup) disk.verified.add(disk.candidate!)
        return { value: { ok: true, data: { migrated: true } } }
      case 'migrate.invalid':
        if (!disk.migratingBackup) disk.primaryDamaged = true
        return { value: { ok: false, error: error('invalid-data') } }
      case 'migrate.ioError':
        return { reason: new SaveflowError('io', { sysCode: 'EIO' }) }
      case 'quarantine.ok':
        disk.primaryDamaged = false
        return { value: { quarantinedTo: `.saveflow/quarantine/${KEY}.${disk.quarantines}` } }
      case 'quarantine.fail':
        return { reason: new SaveflowError('permission-denied', { sysCode: 'EPERM' }) }
      case 'list.none':
        return { value: [] }
      case 'list.one':
        return { value: BACKUPS.slice(0, 1) }
      case 'list.two':
        return { value: BACKUPS }
      case 'list.fail':
        return { reason: new SaveflowError('io', { sysCode: 'EIO' }) }
      case 'backup.valid':
        disk.verified.add(disk.candidate!)
        return { value: { ok: true, document: doc(VERSION) } }
      case 'backup.old':
        return { value: { ok: true, document: doc(VERSION - 1) } }
      case 'backup.newer':
        return { value: { ok: true, document: doc(VERSION + 1) } }
      case 'backup.corrupt':
        return { value: { ok: false, error: error('corrupt') } }
      case 'backup.busy':
        return { reason: new SaveflowError('busy', { sysCode: 'EBUSY' }) }
      case 'restore.ok':
        return { value: undefined }
      case 'restore.fail':
        return { reason: new SaveflowError('disk-full', { sysCode: 'ENOSPC' }) }
      default:
        throw new Error(`not a disk move: ${event}`)
    }
  }

  /** Answers the step the machine waits on, as the environment move says. */
  function answer(event: LoadModelEvent['type']): void {
    const current = pending
    expect(current, `a step should be waiting for ${event}`).not.toBeNull()
    if (current === null) return
    pending = null
    if (current.step === 'loadBackup') {
      disk.candidate = current.input.backupId as string
      disk.verified.delete(disk.candidate)
      disk.migratingBackup = event === 'backup.old'
    }
    if (current.step === 'loadPrimary') disk.migratingBackup = false
    const response = responseFor(event)
    if ('value' in response) current.resolve(response.value)
    else current.reject(response.reason)
  }

  return {
    steps,
    disk,
    answer,
    /** The step waiting for an answer, if any. */
    pending: () => pending,
  }
}

const ticks = () => new Promise((resolve) => setImmediate(resolve))

const USER_EVENTS: Partial<Record<LoadModelEvent['type'], () => { type: string; backupId?: string }>> = {
  'user.useBackup': () => ({ type: 'load.useBackup', backupId: 'b1' }),
  'user.startEmpty': () => ({ type: 'load.startEmpty' }),
  'user.retry': () => ({ type: 'load.retry' }),
}

const PROBLEM_CODES: Record<LoadModelContext['problem'], readonly (string | undefined)[]> = {
  none: [undefined],
  absent: ['not-found'],
  damaged: ['corrupt', 'invalid-data'],
}

type ModelSnapshot = ReturnType<typeof loadModel.transition>

function modelStateOf(snapshot: ModelSnapshot): LoadModelState {
  return snapshot.value as LoadModelState
}

/** Drives the real load machine along one path of the model, checking the real state after every step. */
async function drive(path: { steps: { event: LoadModelEvent; state: ModelSnapshot }[] }): Promise<void> {
  const env = scriptedDisk()
  // The actor clock: a retry delay passes only when the path says so.
  const clock = new SimulatedClock()
  const actor = createActor(loadMachine.provide({ actors: loadActorsFrom(env.steps) }), {
    input: { key: KEY, schemaVersion: VERSION, emptyData: { empty: true } },
    clock,
  })
  actor.start()
  try {
    for (const { event, state } of path.steps) {
      if ((event.type as string) === 'xstate.init') {
        // The initial step of a path: nothing to do.
      } else if (event.type === 'clock.retryDelay') {
        clock.increment(60_000)
      } else if (USER_EVENTS[event.type] !== undefined) {
        actor.send(USER_EVENTS[event.type]!() as never)
      } else {
        env.answer(event.type)
      }
      await settle(actor, env)
      expect(env.disk.violations, `after ${event.type}`).toEqual([])
      expectSameState(actor.getSnapshot(), state, env.pending()?.step ?? null, event.type)
    }
  } finally {
    actor.stop()
  }
}

async function settle(
  actor: { getSnapshot: () => { status: string; value: unknown } },
  env: ReturnType<typeof scriptedDisk>,
) {
  for (let i = 0; i < 20; i++) {
    const snapshot = actor.getSnapshot()
    if (
      env.pending() !== null ||
      snapshot.status === 'done' ||
      snapshot.value === 'needsUser' ||
      snapshot.value === 'failed' ||
      // Waiting on the actor clock, which only the path moves.
      (snapshot.value as { recovering?: string }).recovering === 'retryingBackup'
    )
      return
    await ticks()
  }
}

function expectSameState(
  real: ReturnType<ReturnType<typeof createActor<typeof loadMachine>>['getSnapshot']>,
  model: ModelSnapshot,
  waitingStep: string | null,
  after: string,
): void {
  const name = modelStateOf(model)
  const expected = MODEL_STATES[name]
  expect(real.value, `after ${after}`).toEqual(expected.value)
  expect(waitingStep, `step waited on after ${after}`).toBe(expected.step)
  expect(PROBLEM_CODES[model.context.problem], `problem after ${after}`).toContain(real.context.problem?.code)
  if (name !== 'ready') return
  const output = real.output!
  switch (model.context.readyAs) {
    case 'primary':
      expect(output).toMatchObject({ source: 'primary', readOnly: null, migratedFrom: null })
      break
    case 'migrated':
      expect(output).toMatchObject({ source: 'primary', readOnly: null, migratedFrom: VERSION - 1 })
      break
    case 'readOnly':
      expect(output).toMatchObject({ source: 'primary', readOnly: { fileVersion: VERSION + 1 } })
      break
    case 'readOnlyEmpty':
      expect(output).toMatchObject({ source: 'empty', readOnly: { code: 'future-version' } })
      break
    case 'backup':
      expect(output.source).toBe('backup')
      expect(output.recovery?.restoredFrom?.id).toBeDefined()
      break
    case 'firstRun':
      expect(output).toMatchObject({ source: 'empty', recovery: null, readOnly: null })
      break
    case 'startedEmpty':
      expect(output).toMatchObject({ source: 'empty', recovery: { startedEmpty: true, needsUser: true } })
      break
    default:
      throw new Error('ready without an outcome in the model')
  }
  // A recovery report exists exactly when something was wrong with the primary.
  expect(output.recovery === null, `report after ${after}`).toBe(
    model.context.problem === 'none' || model.context.readyAs === 'firstRun',
  )
}

/**
 * One path per edge of the model's state graph: the shortest path to the edge's source, then the edge. Together they
 * take every transition the model can take from every state it can reach.
 */
function edgePaths() {
  const serialize = (snapshot: ModelSnapshot) =>
    JSON.stringify({ value: snapshot.value, context: snapshot.context })
  const toSource = new Map(getShortestPaths(loadModel).map((path) => [serialize(path.state), path]))
  const adjacency = getAdjacencyMap(loadModel, {})
  const paths: { steps: { event: LoadModelEvent; state: ModelSnapshot }[] }[] = []
  for (const [source, { transitions }] of Object.entries(adjacency)) {
    const prefix = toSource.get(source)
    expect(prefix, `a path to ${source}`).toBeDefined()
    const edges = Object.values(transitions) as { event: LoadModelEvent; state: ModelSnapshot }[]
    for (const { event, state } of edges) paths.push({ steps: [...prefix!.steps, { event, state }] })
  }
  return paths
}

describe('loadMachine against its model', () => {
  const paths = edgePaths()

  it('covers every transition of the model', () => {
    const all = new Set<AnyTransitionDefinition>(
      getStateNodes(loadModel.root).flatMap((node) => [...node.transitions.values()].flat()),
    )
    const taken = new Set<AnyTransitionDefinition>()
    for (const path of paths) {
      let previous: ModelSnapshot | null = null
      for (const step of path.steps) {
        if (previous !== null) {
          for (const transition of loadModel.getTransitionData(previous as never, step.event))
            taken.add(transition)
        }
        previous = step.state
      }
    }
    const missed = [...all].filter((transition) => !taken.has(transition))
    expect(missed.map((t) => `${t.source.key} --${t.eventType}-->`)).toEqual([])
    expect(all.size).toBeGreaterThan(30)
  })

  it('reaches every state of the model', () => {
    const reached = new Set(paths.map((path) => modelStateOf(path.steps.at(-1)!.state)))
    expect([...reached].sort()).toEqual(Object.keys(MODEL_STATES).sort())
  })

  it('behaves like the model along every path', async () => {
    for (const path of paths) {
      await drive(path)
    }
    expect(paths.length).toBeGreaterThan(50)
  })
})
