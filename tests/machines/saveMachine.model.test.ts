import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type AnyActorRef,
  type AnyStateMachine,
  type AnyTransitionDefinition,
  createActor,
  type InspectionEvent,
  transition,
} from 'xstate'
import { getShortestPaths, getStateNodes } from 'xstate/graph'
import { saveMachine } from '../../machines/saveMachine'
import { SaveflowError } from '../../src/core/errors'
import { createSaveCoordinator, type WriteResult } from '../../src/core/save-coordinator'
import { selectDocumentActor, selectSaveStatus, selectWritesInFlight } from '../../src/core/save-selectors'
import { SAVE_MODEL_EVENTS, type SaveModelEvent, type SaveModelInput, saveModel } from '../models/saveModel'
import { TestClock } from './harness'

const KEY = 'project'
const MAX_ATTEMPTS = 2
const INPUTS: SaveModelInput[] = [
  { autoSave: true, maxAttempts: MAX_ATTEMPTS, readOnly: false },
  { autoSave: false, maxAttempts: MAX_ATTEMPTS, readOnly: false },
  // Registered while the workspace is read-only (another window holds the lock).
  { autoSave: true, maxAttempts: MAX_ATTEMPTS, readOnly: true },
]

type ModelSnapshot = ReturnType<typeof saveModel.transition>
interface ModelPath {
  input: SaveModelInput
  events: SaveModelEvent[]
  /** The model state the last move starts from. */
  from?: string
}

/**
 * Names a transition by its place in the chart (source, event, position among that event's transitions), so the same
 * transition of a machine and of its `.provide()`d copy compare equal.
 */
function transitionKey(t: AnyTransitionDefinition): string {
  const siblings =
    t.eventType === '' ? (t.source.always ?? []) : (t.source.transitions.get(t.eventType) ?? [])
  return `${t.source.id} --${t.eventType || 'always'}--> #${siblings.indexOf(t)}`
}

/** Every transition definition of a machine: `on`, `after`, `onDone`/`onError` (all in `transitions`) and `always`. */
function transitionsOf(machine: AnyStateMachine): AnyTransitionDefinition[] {
  return [machine.root, ...getStateNodes(machine.root)].flatMap((node) => [
    ...[...node.transitions.values()].flat(),
    ...(node.always ?? []),
  ])
}

/** Runs events on a fresh model actor and returns the transitions taken. */
function modelTransitions(path: ModelPath): Set<AnyTransitionDefinition> {
  const taken = new Set<AnyTransitionDefinition>()
  const inspect = (event: InspectionEvent) => {
    if (event.type === '@xstate.microstep') for (const t of event._transitions) taken.add(t)
  }
  const actor = createActor(saveModel, { input: path.input, inspect }).start()
  for (const event of path.events) actor.send(event)
  return taken
}

/**
 * The paths to test: the shortest path to every state of the model (state and context), extended by every move that
 * takes a transition there. So every edge of the model's graph is walked once, by the real actor too.
 */
function edgePaths(): ModelPath[] {
  const paths: ModelPath[] = []
  for (const input of INPUTS) {
    for (const path of getShortestPaths(saveModel, { input, events: SAVE_MODEL_EVENTS })) {
      const prefix = path.steps.map((step) => step.event).filter((event) => !event.type.startsWith('xstate.'))
      for (const event of SAVE_MODEL_EVENTS) {
        // The same snapshot back means no transition is enabled: the move is not an edge from here.
        if (transition(saveModel, path.state, event)[0] !== path.state) {
          paths.push({ input, events: [...prefix, event], from: JSON.stringify(path.state.value) })
        }
      }
    }
  }
  return paths
}

/** The real save actor, on a test clock, with validations and writes that end when the path says so. */
function realActor({ autoSave, readOnly }: SaveModelInput, inspect: (event: InspectionEvent) => void) {
  const clock = new TestClock()
  const validations: Array<{ ok: () => void; invalid: () => void }> = []
  const writes: Array<{ ok: () => void; fail: (code: string) => void; signal: AbortSignal }> = []
  const coordinator = createSaveCoordinator({
    clock,
    random: () => 0.5,
    config: {
      autoSave,
      saveDebounce: 300,
      maxWait: 1000,
      retry: { maxAttempts: MAX_ATTEMPTS, delay: 100, maxDelay: 1000 },
    },
    validate: ({ data }) =>
      new Promise((resolve, reject) => {
        validations.push({
          ok: () => resolve(data),
          invalid: () => reject(new SaveflowError('invalid-data')),
        })
      }),
    write: ({ signal }) =>
      new Promise<WriteResult>((resolve, reject) => {
        const fail = (code: string) => reject(Object.assign(new Error(code), { code }))
        writes.push({ ok: () => resolve({ bytes: 1 }), fail, signal })
      }),
  })
  coordinator.actor.system.inspect(inspect)
  // Slots are withheld until the path grants one: a grant is a resume followed by a pause.
  coordinator.pause()
  if (readOnly) coordinator.setReadOnly(new SaveflowError('locked').toJSON())
  coordinator.register(KEY, { kind: 'project', loaded: false })
  const ref = () => selectDocumentActor(coordinator.actor.getSnapshot(), KEY)!
  let edits = 0
  const lastOpen = <T extends object>(list: T[]) => list.at(-1) as T

  const moves: Record<SaveModelEvent['type'], () => Promise<void> | void> = {
    edit: () => void coordinator.change(KEY, ++edits),
    load: () => coordinator.markLoaded(KEY),
    debounce: () => clock.advance(300),
    // Edits keep coming faster than the debounce; maxWait (1 s after debouncing began) starts the save anyway.
    maxWait: async () => {
      for (let i = 0; i < 3; i++) {
        await clock.advance(250)
        coordinator.change(KEY, ++edits)
      }
      await clock.advance(250)
    },
    flush: () => void coordinator.flush(KEY),
    retry: () => coordinator.retry(KEY),
    'validate.ok': () => lastOpen(validations).ok(),
    'validate.invalid': () => lastOpen(validations).invalid(),
    'slot.grant': () => {
      coordinator.resume()
      coordinator.pause()
    },
    'write.ok': () => lastOpen(writes).ok(),
    'write.io': () => lastOpen(writes).fail('EIO'),
    'write.full': () => lastOpen(writes).fail('ENOSPC'),
    'write.denied': () => lastOpen(writes).fail('EACCES'),
    'retry.elapsed': () => clock.advance((ref().getSnapshot().context.nextRetryAt as number) - clock.now()),
    lock: () => coordinator.setReadOnly(new SaveflowError('locked').toJSON()),
    unlock: () => coordinator.setReadOnly(null),
  }
  return { coordinator, ref, writes, clock, moves }
}

/** The status the model implies, to compare with the real actor's derived status. */
function modelStatus(snapshot: ModelSnapshot): string {
  if (snapshot.matches('readOnly')) return 'readOnly'
  if (snapshot.matches('loading')) return 'loading'
  if (snapshot.matches('idle')) return snapshot.context.dirty ? 'unsaved' : 'saved'
  if (snapshot.matches('debouncing')) return 'unsaved'
  if (snapshot.matches('retrying')) return 'retrying'
  if (snapshot.matches('failed')) return 'failed'
  return 'saving'
}

/** A walk through the model: each pick chooses among the moves that take a transition where the walk is. */
function walk(input: SaveModelInput, picks: number[]): SaveModelEvent[] {
  let snapshot = createActor(saveModel, { input }).getSnapshot()
  const events: SaveModelEvent[] = []
  for (const pick of picks) {
    const current = snapshot
    const moves = SAVE_MODEL_EVENTS.filter((event) => transition(saveModel, current, event)[0] !== current)
    const event = moves[pick % moves.length] as SaveModelEvent
    events.push(event)
    snapshot = transition(saveModel, snapshot, event)[0]
  }
  return events
}

function startOf(input: SaveModelInput): string {
  return `${input.autoSave ? 'autosave' : 'manual'}${input.readOnly ? ', registered read-only' : ''}`
}

const paths = edgePaths()
/** One test per starting input and model state, each walking every edge out of that state. */
const groups = [
  ...paths
    .reduce((byName, path) => {
      const name = `${startOf(path.input)}, from ${path.from}`
      byName.set(name, [...(byName.get(name) ?? []), path])
      return byName
    }, new Map<string, ModelPath[]>())
    .entries(),
]
const realTaken = new Set<string>()

/** Walks one path on the model and on the real actor, comparing them after every move. */
async function runOnRealActor(path: ModelPath) {
  const real = realActor(path.input, (event) => {
    if (event.type === '@xstate.microstep' && (event.actorRef as AnyActorRef).id === `save:${KEY}`) {
      for (const t of event._transitions) realTaken.add(transitionKey(t))
    }
  })
  const model = createActor(saveModel, { input: path.input }).start()
  const walked = `${startOf(path.input)}: ${path.events.map((event) => event.type).join(' > ')}`
  for (const [step, event] of path.events.entries()) {
    const wasWriting = model.getSnapshot().matches({ writing: 'active' })
    await real.moves[event.type]()
    await real.clock.advance(0)
    model.send(event)
    const expected = model.getSnapshot()
    const actual = real.ref().getSnapshot()
    const where = `${walked}, after step ${step + 1}`
    expect(actual.matches(expected.value as never), where).toBe(true)
    expect(selectSaveStatus(actual), where).toBe(modelStatus(expected))
    expect(actual.context.pendingRevision > actual.context.savedRevision, where).toBe(expected.context.dirty)
    // The slot is held exactly while a write runs: granted on the way in, released on every way out.
    const inFlight = selectWritesInFlight(real.coordinator.actor.getSnapshot())
    expect(inFlight, where).toBe(expected.matches({ writing: 'active' }) ? 1 : 0)
    // A write abandoned for read-only mode is aborted, not left running.
    if (wasWriting && event.type === 'lock') expect(real.writes.at(-1)?.signal.aborted, where).toBe(true)
  }
  real.coordinator.stop()
}

describe('saveMachine (model-based)', () => {
  it('takes every transition of the model along the generated paths', () => {
    const taken = new Set(paths.flatMap((path) => [...modelTransitions(path)]))
    const missing = transitionsOf(saveModel).filter((t) => !taken.has(t))
    expect(missing.map(transitionKey)).toEqual([])
  })

  it.each(groups)('walks every edge: %s', async (_group, group) => {
    for (const path of group) await runOnRealActor(path)
  })

  // Edges are walked from the shortest way into each state; a random walk also reaches states by longer ways, where
  // the real actor may hold something the model abstracts away (a flush noted during a write, a retry budget).
  it('follows the model on random walks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...INPUTS),
        fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
        async (input, picks) => {
          await runOnRealActor({ input, events: walk(input, picks) })
        },
      ),
      { numRuns: 150 },
    )
  })

  it('drove every transition of the real save actor', () => {
    const missing = transitionsOf(saveMachine)
      .map(transitionKey)
      .filter((key) => !realTaken.has(key))
    expect(missing).toEqual([])
  })
})
