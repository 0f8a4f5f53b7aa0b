import { and, assign, enqueueActions, fromPromise, sendParent, setup } from 'xstate'
import type { RetryConfig } from '../src/core/config'
import type {
  SaveContext,
  SaveFailure,
  SaveMachineEvent,
  SaveMachineInput,
  SaveReport,
  SaveValidateInput,
  SaveWriteInput,
  SaveWriteOutput,
} from '../src/core/save-protocol'
import type { SaveEvent } from '../src/core/status'

type Changed = Extract<SaveMachineEvent, { type: 'doc.changed' }>
type Loaded = Extract<SaveMachineEvent, { type: 'doc.loaded' }>
type ReadOnly = Extract<SaveMachineEvent, { type: 'doc.readOnly' }>

const asFailure = (error: unknown): SaveFailure => {
  const failure = error as Partial<SaveFailure> | undefined
  if (failure?.error?.retry !== undefined) return failure as SaveFailure
  // An actor provided without the classifying wrapper: treat the error as an ordinary, retryable I/O error.
  return { error: { code: 'io', message: String(error), hint: '', retry: 'normal' }, at: 0, jitter: 0.5 }
}

/**
 * The wait before the next attempt: fast errors wait the base delay, ordinary ones back off exponentially
 * (`delay * 2^n`, n = 0 for the first retry), a full disk waits the cap; all within +-20% jitter, never above the cap.
 */
const retryDelay = (retry: RetryConfig, failure: SaveFailure, failed: number): number => {
  const exponent = retry.backoff && failure.error.retry === 'normal' ? failed - 1 : 0
  const base = failure.error.retry === 'slow' ? retry.maxDelay : retry.delay * 2 ** exponent
  return Math.round(Math.min(retry.maxDelay, base * (0.8 + 0.4 * failure.jitter)))
}

/**
 * One save actor per document (DESIGN.md, "The save actor"). It owns the document's unsaved data, decides when to
 * save, and asks its parent for a write slot before each write. `validate` and `write` are provided from outside.
 */
export const saveMachine = setup({
  types: {
    context: {} as SaveContext,
    events: {} as SaveMachineEvent,
    input: {} as SaveMachineInput,
    emitted: {} as SaveEvent,
  },
  actors: {
    validate: fromPromise<unknown, SaveValidateInput>(async ({ input }) => input.data),
    write: fromPromise<SaveWriteOutput, SaveWriteInput>(async () => {
      throw new Error('saveMachine: provide a write actor')
    }),
  },
  delays: {
    debounce: ({ context }) => context.settings.debounceMs,
    maxWait: ({ context }) => context.settings.maxWaitMs,
    retryDelay: ({ context }) => context.retryDelayMs,
  },
  guards: {
    isLoaded: ({ context }) => context.loaded,
    isReadOnly: ({ context }) => context.readOnlyReason !== null,
    isDirty: ({ context }) => context.pendingRevision > context.savedRevision,
    autoSave: ({ context }) => context.settings.autoSave,
    flushDue: ({ context }) => context.flushRequested && context.pendingRevision > context.savedRevision,
    autoSaveDue: ({ context }) =>
      context.settings.autoSave && context.pendingRevision > context.savedRevision,
    flushRequested: ({ context }) => context.flushRequested,
    newerThanWritten: ({ context }) => context.pendingRevision > context.inFlightRevision,
    validatedIsNewest: ({ context }) => context.pendingRevision === context.inFlightRevision,
    ticketMatches: ({ context, event }) => event.type === 'slot.granted' && event.ticket === context.ticket,
    retryNever: ({ event }) => asFailure((event as { error?: unknown }).error).error.retry === 'never',
    retrySlow: ({ event }) => asFailure((event as { error?: unknown }).error).error.retry === 'slow',
    attemptsLeft: ({ context }) =>
      context.attempt + 1 - context.budgetBase < context.settings.retry.maxAttempts,
  },
  actions: {
    /** Tells the parent that a derived status may have changed, so snapshot selectors on it re-run. */
    touch: sendParent(({ context }): SaveReport => ({ type: 'doc.touched', key: context.key })),
    /** Scenario: any edit, in any state. Only `pending` and its revision move; a save in flight keeps its own. */
    record: enqueueActions(({ enqueue, context, event }) => {
      enqueue.assign({ pending: (event as Changed).data, pendingRevision: context.pendingRevision + 1 })
      enqueue.sendParent({ type: 'doc.touched', key: context.key } satisfies SaveReport)
    }),
    /**
     * The file was read at `revision`. Edits made before are rebased above it, so the next write carries a revision
     * newer than the file on disk and every revision handed out stays unique.
     */
    markLoaded: assign(({ context, event }) => {
      const base = (event as Loaded).revision ?? 0
      return {
        loaded: true,
        savedRevision: context.savedRevision + base,
        pendingRevision: context.pendingRevision + base,
      }
    }),
    requestFlush: assign({ flushRequested: true }),
    /**
     * Scenario B: a flush arrives while a save is in flight. If nothing was edited since the save began, that save
     * is the one the flush waits for (it only needs to jump the slot queue); otherwise the next save skips the debounce.
     */
    flushLater: assign(({ context }) => ({
      urgent: true,
      flushRequested: context.flushRequested || context.pendingRevision > context.inFlightRevision,
    })),
    freshBudget: assign(({ context }) => ({ budgetBase: context.attempt })),
    /** Captures the revision this save writes (VS Code's versionId rule: later edits do not belong to it). */
    beginSave: assign(({ context }) => ({
      inFlightRevision: context.pendingRevision,
      urgent: context.urgent || context.flushRequested,
      flushRequested: false,
    })),
    keepValidated: assign({ inFlightData: ({ event }) => (event as { output?: unknown }).output }),
    /**
     * Each entry into `writing` asks with a new ticket: a grant still on its way for an earlier request (the save left
     * `writing` meanwhile) then cannot be taken for this one, which would write without holding a slot.
     */
    requestSlot: enqueueActions(({ enqueue, context }) => {
      const ticket = context.ticket + 1
      enqueue.assign({ ticket })
      enqueue.sendParent({ type: 'slot.request', key: context.key, ticket, priority: priorityOf(context) })
    }),
    /** A flush while waiting for a slot: the same request, now ranked as a flush. */
    upgradeSlot: sendParent(
      ({ context }): SaveReport => ({
        type: 'slot.request',
        key: context.key,
        ticket: context.ticket,
        priority: context.flushPriority,
      }),
    ),
    /** Runs on every way out of `writing`, so a slot is never kept by a save that is no longer writing. */
    releaseSlot: sendParent(
      ({ context }): SaveReport => ({ type: 'slot.release', key: context.key, ticket: context.ticket }),
    ),
    /**
     * Scenario A: the write of revision N returned. Only N is marked saved; an edit made during the write keeps
     * the document unsaved and is saved next.
     */
    markSaved: enqueueActions(({ enqueue, context, event }) => {
      const output = (event as { output?: SaveWriteOutput }).output as SaveWriteOutput
      const saved: SaveEvent = {
        type: 'save.succeeded',
        key: context.key,
        revision: context.inFlightRevision,
        attempt: context.attempt + 1,
        durationMs: output.finishedAt - output.startedAt,
        bytes: output.bytes,
        at: output.finishedAt,
      }
      const events: SaveEvent[] = [saved]
      if (context.attempt > 0) {
        events.push({
          type: 'save.recovered',
          key: context.key,
          revision: context.inFlightRevision,
          failedAttempts: context.attempt,
        })
      }
      enqueue.assign({
        savedRevision: context.inFlightRevision,
        lastSavedAt: output.finishedAt,
        attempt: 0,
        budgetBase: 0,
        urgent: false,
        nextRetryAt: null,
        lastError: null,
      })
      for (const announced of events) {
        enqueue.emit(announced)
        enqueue.sendParent({ type: 'doc.event', event: announced } satisfies SaveReport)
      }
    }),
    /** A failed validation or write: counted, remembered, and announced as retrying or failed. */
    recordFailure: enqueueActions(({ enqueue, context, event }, params: { retrying: boolean }) => {
      const failure = asFailure((event as { error?: unknown }).error)
      const attempt = context.attempt + 1
      const delayMs = retryDelay(context.settings.retry, failure, attempt - context.budgetBase)
      const announced: SaveEvent = params.retrying
        ? {
            type: 'save.retrying',
            key: context.key,
            revision: context.inFlightRevision,
            attempt,
            error: failure.error,
            retryAt: failure.at + delayMs,
          }
        : {
            type: 'save.failed',
            key: context.key,
            revision: context.inFlightRevision,
            attempt,
            error: failure.error,
          }
      enqueue.assign({
        attempt,
        // A save that stopped no longer serves a flush; the next one is ranked by its own cause.
        urgent: context.urgent && params.retrying,
        lastError: failure.error,
        retryDelayMs: delayMs,
        nextRetryAt: params.retrying ? failure.at + delayMs : null,
      })
      enqueue.emit(announced)
      enqueue.sendParent({ type: 'doc.event', event: announced } satisfies SaveReport)
    }),
    setReadOnly: assign({
      readOnlyReason: ({ event }) => (event as ReadOnly).reason,
    }),
    clearReadOnly: assign({ readOnlyReason: null, nextRetryAt: null }),
  },
}).createMachine({
  id: 'save',
  context: ({ input }) => ({
    key: input.key,
    kind: input.kind,
    priority: input.priority,
    flushPriority: input.flushPriority,
    settings: input.settings,
    loaded: input.loaded ?? true,
    readOnlyReason: input.readOnly ?? null,
    pending: undefined,
    pendingRevision: 0,
    savedRevision: 0,
    inFlightRevision: 0,
    inFlightData: undefined,
    flushRequested: false,
    urgent: false,
    ticket: 0,
    attempt: 0,
    budgetBase: 0,
    retryDelayMs: 0,
    nextRetryAt: null,
    lastError: null,
    lastSavedAt: null,
  }),
  initial: 'loading',
  on: {
    'doc.changed': { actions: 'record' },
    // The lock was lost or the file is from a future version: a write in flight is aborted (writes are atomic, so
    // the file keeps its last good content) and nothing is written until `doc.writable`.
    'doc.readOnly': { target: '.readOnly', actions: 'setReadOnly' },
  },
  states: {
    // Also where "may saving begin?" is answered after a load or the end of read-only mode: a flush that waited
    // goes first, then autosave; edits made meanwhile were kept and are saved now.
    loading: {
      always: [
        { guard: 'isReadOnly', target: 'readOnly' },
        { guard: and(['isLoaded', 'flushDue']), target: 'validating' },
        { guard: and(['isLoaded', 'autoSaveDue']), target: 'debouncing' },
        { guard: 'isLoaded', target: 'idle' },
      ],
      on: {
        'doc.loaded': { actions: 'markLoaded' },
        'save.flush': { actions: 'requestFlush' },
      },
    },
    idle: {
      entry: 'touch',
      on: {
        'doc.changed': [
          { guard: 'autoSave', target: 'debouncing', actions: 'record' },
          { actions: 'record' },
        ],
        'save.flush': { guard: 'isDirty', target: 'validating', actions: 'requestFlush' },
      },
    },
    debouncing: {
      entry: 'touch',
      // maxWait is armed once, when the first unsaved edit arrives: a stream of edits restarts only `quiet`.
      after: { maxWait: 'validating' },
      initial: 'quiet',
      states: {
        quiet: {
          after: { debounce: '#save.validating' },
          on: { 'doc.changed': { target: 'quiet', reenter: true, actions: 'record' } },
        },
      },
      on: { 'save.flush': { target: 'validating', actions: 'requestFlush' } },
    },
    validating: {
      entry: ['beginSave', 'touch'],
      invoke: {
        src: 'validate',
        input: ({ context }) => ({ key: context.key, kind: context.kind, data: context.pending }),
        onDone: { target: 'writing', actions: 'keepValidated' },
        // Invalid data is never written: the last good file stays as it was.
        onError: { target: 'failed', actions: { type: 'recordFailure', params: { retrying: false } } },
      },
      on: { 'save.flush': { actions: 'flushLater' } },
    },
    writing: {
      entry: ['requestSlot', 'touch'],
      exit: 'releaseSlot',
      initial: 'waitingForSlot',
      on: { 'save.flush': { actions: 'flushLater' } },
      states: {
        waitingForSlot: {
          on: {
            'slot.granted': { guard: 'ticketMatches', target: 'active' },
            'save.flush': { actions: ['flushLater', 'upgradeSlot'] },
          },
        },
        active: {
          invoke: {
            src: 'write',
            input: ({ context }) => ({
              key: context.key,
              kind: context.kind,
              data: context.inFlightData,
              revision: context.inFlightRevision,
            }),
            onDone: [
              { guard: 'flushRequested', target: '#save.validating', actions: 'markSaved' },
              {
                guard: and(['newerThanWritten', 'autoSave']),
                target: '#save.debouncing',
                actions: 'markSaved',
              },
              { target: '#save.idle', actions: 'markSaved' },
            ],
            onError: [
              { guard: 'retryNever', target: '#save.failed', actions: failWith(false) },
              // A full disk is retried at the cap for as long as it takes: saving resumes by itself.
              { guard: 'retrySlow', target: '#save.retrying', actions: failWith(true) },
              { guard: 'attemptsLeft', target: '#save.retrying', actions: failWith(true) },
              { target: '#save.failed', actions: failWith(false) },
            ],
          },
        },
      },
    },
    retrying: {
      entry: 'touch',
      after: {
        // The retry writes the newest data; data edited since the last validation is validated first.
        retryDelay: [{ guard: 'validatedIsNewest', target: 'writing' }, { target: 'validating' }],
      },
      on: {
        'save.flush': { target: 'validating', actions: 'requestFlush' },
        'save.retry': { target: 'validating' },
      },
    },
    failed: {
      entry: 'touch',
      on: {
        'doc.changed': [
          { guard: 'autoSave', target: 'debouncing', actions: ['record', 'freshBudget'] },
          { actions: 'record' },
        ],
        'save.retry': { target: 'validating', actions: 'freshBudget' },
        'save.flush': { target: 'validating', actions: ['freshBudget', 'requestFlush'] },
      },
    },
    readOnly: {
      entry: 'touch',
      on: {
        'doc.readOnly': { actions: 'setReadOnly' },
        'doc.loaded': { actions: 'markLoaded' },
        'doc.writable': { target: 'loading', actions: ['clearReadOnly', 'freshBudget'] },
      },
    },
  },
})

function failWith(retrying: boolean) {
  return { type: 'recordFailure', params: { retrying } } as const
}

function priorityOf(context: SaveContext): number {
  return context.urgent ? context.flushPriority : context.priority
}
