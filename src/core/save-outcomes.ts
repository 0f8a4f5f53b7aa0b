import type { Subscription } from 'xstate'
import type { SaveActorRef } from '../../machines/saveCoordinatorMachine'
import type { SaveflowErrorData } from './errors'
import { SaveflowError } from './errors'
import type { Clock, SaveOutcome } from './save-coordinator'

interface Awaited {
  key: string
  ref: SaveActorRef
  /** The newest revision when the flush was asked for: the flush is done when it is durable. */
  target: number
}

function outcome(
  awaited: Awaited,
  result: SaveOutcome['result'],
  error: SaveflowErrorData | null,
): SaveOutcome {
  const { context } = awaited.ref.getSnapshot()
  return {
    key: awaited.key,
    result,
    savedRevision: context.savedRevision,
    pendingRevision: context.pendingRevision,
    ...(error === null ? {} : { error }),
  }
}

/** The outcome of a flush if it is decided, else undefined (still saving, retrying, waiting for load or a slot). */
function decided(awaited: Awaited): SaveOutcome | undefined {
  const snapshot = awaited.ref.getSnapshot()
  if (snapshot.status !== 'active') return outcome(awaited, 'failed', new SaveflowError('aborted').toJSON())
  if (snapshot.context.savedRevision >= awaited.target) return outcome(awaited, 'saved', null)
  if (snapshot.matches('failed')) return outcome(awaited, 'failed', snapshot.context.lastError)
  if (snapshot.matches('readOnly')) return outcome(awaited, 'failed', snapshot.context.readOnlyReason)
  return undefined
}

/**
 * Asks the save actors to flush (`request`) and resolves with one outcome per document, in the given order: `saved`
 * once the revision that was newest at the call is durable, `failed` when saving stopped, `timeout` for whatever is
 * still undecided at the deadline (a full disk, paused writes, a document not loaded yet). The deadline runs on the
 * actor clock, so tests drive it with a `SimulatedClock`.
 */
export function flushAndWait(
  docs: ReadonlyArray<readonly [key: string, ref: SaveActorRef]>,
  request: () => void,
  clock: Clock,
  deadlineMs: number | undefined,
): Promise<SaveOutcome[]> {
  const awaited: Awaited[] = docs.map(([key, ref]) => ({
    key,
    ref,
    target: ref.getSnapshot().context.pendingRevision,
  }))
  request()
  return new Promise((resolve) => {
    const results = new Map<number, SaveOutcome>()
    const subscriptions: Subscription[] = []
    let timer: unknown
    const finish = (index: number, result: SaveOutcome) => {
      if (results.has(index)) return
      results.set(index, result)
      if (results.size < awaited.length) return
      for (const subscription of subscriptions) subscription.unsubscribe()
      if (timer !== undefined) clock.clearTimeout(timer)
      resolve(awaited.map((_, i) => results.get(i) as SaveOutcome))
    }
    if (awaited.length === 0) resolve([])
    awaited.forEach((entry, index) => {
      const check = () => {
        const result = decided(entry)
        if (result !== undefined) finish(index, result)
      }
      check()
      if (!results.has(index)) subscriptions.push(entry.ref.subscribe({ next: check, complete: check }))
    })
    if (results.size < awaited.length && deadlineMs !== undefined) {
      timer = clock.setTimeout(() => {
        awaited.forEach((entry, index) => {
          finish(index, outcome(entry, 'timeout', entry.ref.getSnapshot().context.lastError))
        })
      }, deadlineMs)
    }
  })
}
