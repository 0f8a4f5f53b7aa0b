import { assign, setup } from 'xstate'

/**
 * A pure model of one save actor, for model-based tests. Its events are the environment's moves (an edit, time
 * passing, a write ending one way or another), so `xstate/graph` can walk it: the real machine has `after` timers
 * and invoked actors, which `createTestModel` refuses (TOOLCHAIN.md). Its context keeps only what decides the next
 * state, all of it finite, so the graph stays small.
 */
export interface SaveModelContext {
  autoSave: boolean
  maxAttempts: number
  loaded: boolean
  readOnly: boolean
  /** The newest edit is not durable. */
  dirty: boolean
  /** An edit arrived after the save in flight captured its revision. */
  newer: boolean
  /** A flush waits for a save that has not begun yet. */
  flush: boolean
  /** Failed attempts in the current retry budget, capped at `maxAttempts` (a full disk keeps failing). */
  failures: number
}

/** How the model starts: the document's autoSave setting, its attempts, and whether the workspace is read-only. */
export interface SaveModelInput {
  autoSave: boolean
  maxAttempts: number
  readOnly: boolean
}

/** The environment's moves. */
export type SaveModelEvent =
  | { type: 'edit' }
  | { type: 'load' }
  | { type: 'debounce' }
  | { type: 'maxWait' }
  | { type: 'flush' }
  | { type: 'retry' }
  | { type: 'validate.ok' }
  | { type: 'validate.invalid' }
  | { type: 'slot.grant' }
  | { type: 'write.ok' }
  | { type: 'write.io' }
  | { type: 'write.full' }
  | { type: 'write.denied' }
  | { type: 'retry.elapsed' }
  | { type: 'lock' }
  | { type: 'unlock' }

/** Every move, for the traversal. */
export const SAVE_MODEL_EVENTS: SaveModelEvent[] = [
  'edit',
  'load',
  'debounce',
  'maxWait',
  'flush',
  'retry',
  'validate.ok',
  'validate.invalid',
  'slot.grant',
  'write.ok',
  'write.io',
  'write.full',
  'write.denied',
  'retry.elapsed',
  'lock',
  'unlock',
].map((type) => ({ type }) as SaveModelEvent)

/** The save actor as the user sees it, without time, data or actors. */
export const saveModel = setup({
  types: {
    context: {} as SaveModelContext,
    events: {} as SaveModelEvent,
    input: {} as SaveModelInput,
  },
  guards: {
    autoSave: ({ context }) => context.autoSave,
    dirty: ({ context }) => context.dirty,
    readOnly: ({ context }) => context.readOnly,
    loaded: ({ context }) => context.loaded,
    flushDue: ({ context }) => context.loaded && context.flush && context.dirty,
    autoSaveDue: ({ context }) => context.loaded && context.autoSave && context.dirty,
    flush: ({ context }) => context.flush,
    newerAutoSave: ({ context }) => context.newer && context.autoSave,
    notNewer: ({ context }) => !context.newer,
    attemptsLeft: ({ context }) => context.failures + 1 < context.maxAttempts,
  },
  actions: {
    edit: assign({ dirty: true, newer: true }),
    flushLater: assign({ flush: ({ context }) => context.flush || context.newer }),
    failed: assign({ failures: ({ context }) => Math.min(context.failures + 1, context.maxAttempts) }),
    freshBudget: assign({ failures: 0 }),
    /** Only the revision written is saved: an edit made meanwhile keeps the document dirty. */
    saved: assign({ dirty: ({ context }) => context.newer, failures: 0 }),
  },
}).createMachine({
  id: 'saveModel',
  context: ({ input }) => ({
    ...input,
    loaded: false,
    dirty: false,
    newer: false,
    flush: false,
    failures: 0,
  }),
  initial: 'loading',
  on: {
    edit: { actions: 'edit' },
    lock: { target: '.readOnly', actions: assign({ readOnly: true }) },
  },
  states: {
    loading: {
      always: [
        { guard: 'readOnly', target: 'readOnly' },
        { guard: 'flushDue', target: 'validating' },
        { guard: 'autoSaveDue', target: 'debouncing' },
        { guard: 'loaded', target: 'idle' },
      ],
      on: {
        load: { actions: assign({ loaded: true }) },
        flush: { actions: assign({ flush: true }) },
      },
    },
    idle: {
      on: {
        edit: [{ guard: 'autoSave', target: 'debouncing', actions: 'edit' }, { actions: 'edit' }],
        flush: { guard: 'dirty', target: 'validating', actions: assign({ flush: true }) },
      },
    },
    debouncing: {
      on: {
        debounce: 'validating',
        maxWait: 'validating',
        flush: { target: 'validating', actions: assign({ flush: true }) },
      },
    },
    validating: {
      entry: assign({ newer: false, flush: false }),
      on: {
        flush: { actions: 'flushLater' },
        'validate.ok': 'writing',
        'validate.invalid': { target: 'failed', actions: 'failed' },
      },
    },
    writing: {
      initial: 'waitingForSlot',
      on: { flush: { actions: 'flushLater' } },
      states: {
        // A flush here also re-ranks the slot request in the real actor: a transition of its own.
        waitingForSlot: { on: { 'slot.grant': 'active', flush: { actions: 'flushLater' } } },
        active: {
          on: {
            'write.ok': [
              { guard: 'flush', target: '#saveModel.validating', actions: 'saved' },
              { guard: 'newerAutoSave', target: '#saveModel.debouncing', actions: 'saved' },
              { target: '#saveModel.idle', actions: 'saved' },
            ],
            'write.denied': { target: '#saveModel.failed', actions: 'failed' },
            'write.full': { target: '#saveModel.retrying', actions: 'failed' },
            'write.io': [
              { guard: 'attemptsLeft', target: '#saveModel.retrying', actions: 'failed' },
              { target: '#saveModel.failed', actions: 'failed' },
            ],
          },
        },
      },
    },
    retrying: {
      on: {
        'retry.elapsed': [{ guard: 'notNewer', target: 'writing' }, { target: 'validating' }],
        flush: { target: 'validating', actions: assign({ flush: true }) },
        retry: 'validating',
      },
    },
    failed: {
      on: {
        edit: [
          { guard: 'autoSave', target: 'debouncing', actions: ['edit', 'freshBudget'] },
          { actions: 'edit' },
        ],
        retry: { target: 'validating', actions: 'freshBudget' },
        flush: { target: 'validating', actions: ['freshBudget', assign({ flush: true })] },
      },
    },
    readOnly: {
      on: {
        // A new reason replaces the old one (the real actor shows it); still read-only.
        lock: { actions: assign({ readOnly: true }) },
        load: { actions: assign({ loaded: true }) },
        unlock: { target: 'loading', actions: [assign({ readOnly: false }), 'freshBudget'] },
      },
    },
  },
})
