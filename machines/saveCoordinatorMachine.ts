import { type ActorRefFrom, assign, enqueueActions, setup } from 'xstate'
import type { SaveflowErrorData } from '../src/core/errors'
import type { SaveMetric } from '../src/core/save-coordinator'
import type { SaveMachineInput, SaveReport } from '../src/core/save-protocol'
import type { DocumentKind, SaveEvent } from '../src/core/status'
import { saveMachine } from './saveMachine'

/** A running save actor, as the coordinator keeps it. */
export type SaveActorRef = ActorRefFrom<typeof saveMachine>

/** One registered document. */
export interface CoordinatedDocument {
  kind: DocumentKind
  ref: SaveActorRef
}

/** A save waiting for a write slot. `seq` keeps requests of equal rank first come, first served. */
export interface SlotRequest {
  key: string
  ticket: number
  priority: number
  seq: number
}

/** What the coordinator is started with. */
export interface SaveCoordinatorInput {
  /** Writes in flight across all documents. */
  maxConcurrentWrites: number
  /** Slot rank of a flush (`FLUSH_PRIORITY`), handed to every save actor. */
  flushPriority: number
  /** Why the workspace starts read-only, if it does. @default null */
  readOnly?: SaveflowErrorData | null
  /** Save figures kept per document. @default 20 */
  metricsSize?: number
}

/** The coordinator's state. Document statuses are not here: selectors derive them from each save actor. */
export interface SaveCoordinatorContext {
  docs: Record<string, CoordinatedDocument>
  queue: SlotRequest[]
  /** Saves holding a write slot right now. */
  holders: Array<{ key: string; ticket: number }>
  maxConcurrentWrites: number
  flushPriority: number
  paused: boolean
  readOnly: SaveflowErrorData | null
  seq: number
  /**
   * Counts changes reported by the save actors. It stores no status; it only gives this snapshot a new identity when
   * a child changed, so `useSelector(coordinator, selectAggregateStatus)` re-runs.
   */
  version: number
  metrics: Record<string, SaveMetric[]>
  metricsSize: number
}

/** Events of the coordinator: commands from the facade, and reports of its save actors. */
export type SaveCoordinatorEvent =
  | {
      type: 'doc.register'
      key: string
      input: Omit<SaveMachineInput, 'key' | 'flushPriority' | 'readOnly'>
    }
  | { type: 'doc.unregister'; key: string }
  | { type: 'save.flushAll' }
  | { type: 'writes.pause' }
  | { type: 'writes.resume' }
  | { type: 'workspace.readOnly'; reason: SaveflowErrorData | null }
  | SaveReport

type Report<T extends SaveReport['type']> = Extract<SaveReport, { type: T }>
type Register = Extract<SaveCoordinatorEvent, { type: 'doc.register' }>

/** The next grants: best rank first, then oldest; none while paused or while every slot is taken. */
function planGrants(context: SaveCoordinatorContext): SlotRequest[] {
  if (context.paused) return []
  const free = context.maxConcurrentWrites - context.holders.length
  // One write per document, even if a request were to arrive before the release of the previous write.
  const writing = new Set(context.holders.map((holder) => holder.key))
  const ordered = context.queue
    .filter((request) => !writing.has(request.key))
    .sort((a, b) => a.priority - b.priority || a.seq - b.seq)
  return ordered.slice(0, Math.max(0, free))
}

/**
 * The parent of every save actor (DESIGN.md, "The coordinator"): spawns one per document, grants write slots by
 * priority within `maxConcurrentWrites`, pauses writes, and re-emits the children's save events.
 *
 * Events are re-emitted from here rather than having listeners subscribe to each child: one `on` survives documents
 * coming and going, and the coordinator needs `save.succeeded` anyway for the figures it keeps.
 */
export const saveCoordinatorMachine = setup({
  types: {
    context: {} as SaveCoordinatorContext,
    events: {} as SaveCoordinatorEvent,
    input: {} as SaveCoordinatorInput,
    emitted: {} as SaveEvent,
  },
  actors: { save: saveMachine },
  actions: {
    /** Hands free slots to the best waiting saves. Called after anything that frees a slot or queues a request. */
    grant: enqueueActions(({ enqueue, context }) => {
      const granted = planGrants(context)
      if (granted.length === 0) return
      enqueue.assign({
        queue: context.queue.filter((request) => !granted.includes(request)),
        holders: [...context.holders, ...granted.map(({ key, ticket }) => ({ key, ticket }))],
      })
      for (const { key, ticket } of granted) {
        const doc = context.docs[key] as CoordinatedDocument
        enqueue.sendTo(doc.ref, { type: 'slot.granted', ticket })
      }
    }),
    /**
     * A save asks for a slot, or asks again with a flush's rank. One request per document: the old one is replaced.
     * Requests of documents no longer registered are dropped.
     */
    enqueueRequest: assign(({ context, event }) => {
      const { key, ticket, priority } = event as Report<'slot.request'>
      const holding = context.holders.some((holder) => holder.key === key && holder.ticket === ticket)
      if (!(key in context.docs) || holding) return {}
      return {
        queue: [
          ...context.queue.filter((request) => request.key !== key),
          { key, ticket, priority, seq: context.seq },
        ],
        seq: context.seq + 1,
      }
    }),
    /** A save left `writing` (done, failed, aborted, read-only): its slot or its place in the queue goes. */
    release: assign(({ context, event }) => {
      const { key, ticket } = event as Report<'slot.release'>
      const other = (entry: { key: string; ticket: number }) => entry.key !== key || entry.ticket !== ticket
      return { queue: context.queue.filter(other), holders: context.holders.filter(other) }
    }),
    register: assign(({ context, event, spawn }) => {
      const { key, input } = event as Register
      if (key in context.docs) return {}
      const ref = spawn('save', {
        id: `save:${key}`,
        input: { ...input, key, flushPriority: context.flushPriority, readOnly: context.readOnly },
      })
      return {
        docs: { ...context.docs, [key]: { kind: input.kind, ref } },
        metrics: { ...context.metrics, [key]: [] },
      }
    }),
    /**
     * Stopping an actor runs no exit actions, so its slot is released here: a save stopped mid-write frees its slot at
     * once, and stopping it stops its write actor, which fires the write's AbortSignal.
     */
    unregister: enqueueActions(({ enqueue, context, event }) => {
      const { key } = event as Extract<SaveCoordinatorEvent, { type: 'doc.unregister' }>
      const doc = context.docs[key]
      if (doc === undefined) return
      enqueue.stopChild(doc.ref)
      const { [key]: _gone, ...docs } = context.docs
      const { [key]: _figures, ...metrics } = context.metrics
      enqueue.assign({
        docs,
        metrics,
        queue: context.queue.filter((request) => request.key !== key),
        holders: context.holders.filter((holder) => holder.key !== key),
        version: context.version + 1,
      })
    }),
    flushAll: enqueueActions(({ enqueue, context }) => {
      for (const doc of Object.values(context.docs)) enqueue.sendTo(doc.ref, { type: 'save.flush' })
    }),
    setReadOnly: enqueueActions(({ enqueue, context, event }) => {
      const { reason } = event as Extract<SaveCoordinatorEvent, { type: 'workspace.readOnly' }>
      enqueue.assign({ readOnly: reason })
      for (const doc of Object.values(context.docs)) {
        enqueue.sendTo(doc.ref, reason === null ? { type: 'doc.writable' } : { type: 'doc.readOnly', reason })
      }
    }),
    /** Relays a child's save event to the coordinator's listeners and keeps the figures of successful saves. */
    relay: enqueueActions(({ enqueue, context, event }) => {
      const relayed = (event as Report<'doc.event'>).event
      enqueue.emit(relayed)
      const figures = context.metrics[relayed.key]
      if (relayed.type !== 'save.succeeded' || figures === undefined) return
      const metric: SaveMetric = {
        revision: relayed.revision,
        durationMs: relayed.durationMs,
        bytes: relayed.bytes,
        at: relayed.at,
      }
      enqueue.assign({
        metrics: { ...context.metrics, [relayed.key]: [...figures, metric].slice(-context.metricsSize) },
      })
    }),
    touch: assign({ version: ({ context }) => context.version + 1 }),
  },
}).createMachine({
  id: 'saveCoordinator',
  context: ({ input }) => ({
    docs: {},
    queue: [],
    holders: [],
    maxConcurrentWrites: input.maxConcurrentWrites,
    flushPriority: input.flushPriority,
    paused: false,
    readOnly: input.readOnly ?? null,
    seq: 0,
    version: 0,
    metrics: {},
    metricsSize: input.metricsSize ?? 20,
  }),
  on: {
    'doc.register': { actions: ['register', 'touch'] },
    'doc.unregister': { actions: ['unregister', 'grant'] },
    'save.flushAll': { actions: 'flushAll' },
    // Pausing holds new grants only; writes already in flight finish (they are atomic and already durable or not).
    'writes.pause': { actions: assign({ paused: true }) },
    'writes.resume': { actions: [assign({ paused: false }), 'grant'] },
    'workspace.readOnly': { actions: 'setReadOnly' },
    'slot.request': { actions: ['enqueueRequest', 'grant'] },
    'slot.release': { actions: ['release', 'grant'] },
    'doc.event': { actions: ['relay', 'touch'] },
    'doc.touched': { actions: 'touch' },
  },
})
