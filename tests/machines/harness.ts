import { SimulatedClock } from 'xstate'
import type { PersistenceConfigInput } from '../../src/core/config'
import { SaveflowError } from '../../src/core/errors'
import {
  createSaveCoordinator,
  type SaveCoordinator,
  type ValidateFn,
  type WriteFn,
  type WriteRequest,
} from '../../src/core/save-coordinator'
import { selectDocumentActor } from '../../src/core/save-selectors'
import type { SaveEvent } from '../../src/core/status'

/** Lets pending promise callbacks (write results reaching the actors) run. Not a timer: no wall-clock waiting. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * A `SimulatedClock` that knows its next deadline, so `advance` can stop at every timer and let the actors react
 * before time moves on, the way a real clock would. A single `increment(2000)` would fire a write's end and then run
 * the actor's reaction with the clock already 2 s later.
 */
export class TestClock extends SimulatedClock {
  private readonly due = new Map<number, number>()

  override setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const id: number = super.setTimeout(() => {
      this.due.delete(id)
      fn()
    }, timeout)
    this.due.set(id, this.now() + timeout)
    return id
  }

  override clearTimeout(id: number): void {
    this.due.delete(id)
    super.clearTimeout(id)
  }

  /** Moves time forward by `ms`, stopping at each deadline on the way and letting promises settle there. */
  async advance(ms: number): Promise<void> {
    const end = this.now() + ms
    for (;;) {
      await settle()
      const next = Math.min(...this.due.values())
      if (!(next <= end)) break
      this.increment(Math.max(0, next - this.now()))
    }
    if (end > this.now()) this.increment(end - this.now())
    await settle()
  }
}

/** One step of the scripted storage: how long a write takes and how it ends (an errno code, or success). */
export interface WriteStep {
  ms?: number
  fail?: string
  bytes?: number
}

/** One write as the storage saw it. */
export interface WriteRecord {
  key: string
  revision: number
  data: unknown
  startedAt: number
  endedAt: number | null
  outcome: 'pending' | 'ok' | 'failed' | 'aborted'
}

/**
 * A fake write with scripted outcomes on the test clock (the VS Code tests' "fake file service flag", as data).
 * It keeps what a disk would hold and checks the concurrency rules as it goes.
 */
export class ScriptedStorage {
  readonly stored = new Map<string, unknown>()
  readonly writes: WriteRecord[] = []
  /** Writes of one document that ran at the same time (must stay 0). */
  overlaps = 0
  inFlight = 0
  maxInFlight = 0
  /** Decides the outcome of writes not covered by `queue` (property tests switch faults on and off here). */
  fallback: (request: WriteRequest) => WriteStep = () => ({ ms: 10 })
  private readonly script: WriteStep[] = []
  private readonly active = new Set<string>()

  constructor(private readonly clock: TestClock) {}

  /** Scripts the next writes, in order. */
  queue(...steps: WriteStep[]): this {
    this.script.push(...steps)
    return this
  }

  readonly write: WriteFn = (request) => {
    const step = this.script.shift() ?? this.fallback(request)
    const record: WriteRecord = {
      key: request.key,
      revision: request.revision,
      data: request.data,
      startedAt: this.clock.now(),
      endedAt: null,
      outcome: 'pending',
    }
    this.writes.push(record)
    if (this.active.has(request.key)) this.overlaps += 1
    this.active.add(request.key)
    this.inFlight += 1
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    return new Promise((resolve, reject) => {
      const end = (outcome: WriteRecord['outcome']) => {
        this.active.delete(request.key)
        this.inFlight -= 1
        record.endedAt = this.clock.now()
        record.outcome = outcome
      }
      const timer = this.clock.setTimeout(() => {
        request.signal.removeEventListener('abort', onAbort)
        if (step.fail !== undefined) {
          end('failed')
          reject(Object.assign(new Error(`${step.fail}: scripted failure`), { code: step.fail }))
          return
        }
        end('ok')
        this.stored.set(request.key, request.data)
        resolve({ bytes: step.bytes ?? JSON.stringify(request.data ?? null).length })
      }, step.ms ?? 10)
      const onAbort = () => {
        this.clock.clearTimeout(timer)
        end('aborted')
        reject(new SaveflowError('aborted'))
      }
      request.signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Writes of one document, in order. */
  writesOf(key: string): WriteRecord[] {
    return this.writes.filter((write) => write.key === key)
  }
}

/** Options of {@link createTestCoordinator}. */
export interface TestCoordinatorOptions {
  config?: PersistenceConfigInput
  validate?: ValidateFn
  random?: () => number
}

/** A coordinator on a test clock and a scripted storage, with every emitted event recorded. */
export function createTestCoordinator(options: TestCoordinatorOptions = {}) {
  const clock = new TestClock()
  const storage = new ScriptedStorage(clock)
  const coordinator: SaveCoordinator = createSaveCoordinator({
    write: storage.write,
    clock,
    random: options.random ?? (() => 0.5),
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(options.validate === undefined ? {} : { validate: options.validate }),
  })
  const events: SaveEvent[] = []
  coordinator.on('*', (event) => events.push(event as SaveEvent))
  /** The state of a document's save actor, e.g. `'idle'` or `{ writing: 'active' }`. */
  const stateOf = (key: string) =>
    selectDocumentActor(coordinator.actor.getSnapshot(), key)?.getSnapshot().value
  const actorOf = (key: string) => {
    const ref = selectDocumentActor(coordinator.actor.getSnapshot(), key)
    if (ref === undefined) throw new Error(`no actor for ${key}`)
    return ref
  }
  return { clock, storage, coordinator, events, stateOf, actorOf }
}
