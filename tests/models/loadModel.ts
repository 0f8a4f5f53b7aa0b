import { assign, setup } from 'xstate'

/**
 * A pure model of loading one document, written from DESIGN.md ("Loading and recovery") rather than from the
 * machine. Its events are the environment's moves (what the disk answers to each step) and the user's answers, so
 * `xstate/graph` can enumerate every way a load can go; each path then drives the real load machine
 * (tests/machines/loadMachine.model.test.ts), the pattern of xstate's own `dieHard.test.ts`.
 *
 * Context is kept to what decides a branch: how many backups were listed and are left to try, whether the user
 * picked the one being tried, and what was wrong with the primary (it survives a retry).
 */
export interface LoadModelContext {
  /** Backups listed in this pass (the user can pick the first one). */
  backups: 0 | 1 | 2
  /** Backups not tried yet in this pass. */
  remaining: 0 | 1 | 2
  picked: boolean
  /** Busy reads of the backup being tried that were retried (DESIGN.md "Errors": EBUSY retries fast). */
  retries: 0 | 1 | 2
  problem: 'none' | 'absent' | 'damaged'
  /** How the load ended, once `ready`. */
  readyAs:
    | null
    | 'primary'
    | 'migrated'
    | 'readOnly'
    | 'readOnlyEmpty'
    | 'backup'
    | 'firstRun'
    | 'startedEmpty'
}

/** Moves of the environment (answers of the disk steps) and of the user. */
export type LoadModelEvent =
  | { type: 'primary.valid' }
  | { type: 'primary.old' }
  | { type: 'primary.newer' }
  | { type: 'primary.absent' }
  | { type: 'primary.corrupt' }
  | { type: 'primary.undecodableNewer' }
  | { type: 'primary.unreadable' }
  | { type: 'migrate.ok' }
  | { type: 'migrate.invalid' }
  | { type: 'migrate.ioError' }
  | { type: 'quarantine.ok' }
  | { type: 'quarantine.fail' }
  | { type: 'list.none' }
  | { type: 'list.one' }
  | { type: 'list.two' }
  | { type: 'list.fail' }
  | { type: 'backup.valid' }
  | { type: 'backup.old' }
  | { type: 'backup.newer' }
  | { type: 'backup.corrupt' }
  | { type: 'backup.busy' }
  | { type: 'clock.retryDelay' }
  | { type: 'restore.ok' }
  | { type: 'restore.fail' }
  | { type: 'user.useBackup' }
  | { type: 'user.startEmpty' }
  | { type: 'user.retry' }

/** The state a model state stands for, in the real machine's terms, and the step it must be waiting on. */
export const MODEL_STATES = {
  reading: { value: 'reading', step: 'loadPrimary' },
  migrating: { value: 'migrating', step: 'migrate' },
  quarantining: { value: { recovering: 'quarantining' }, step: 'quarantine' },
  listing: { value: { recovering: 'listing' }, step: 'listBackups' },
  loadingBackup: { value: { recovering: 'loadingBackup' }, step: 'loadBackup' },
  retryingBackup: { value: { recovering: 'retryingBackup' }, step: null },
  migratingBackup: { value: { recovering: 'migratingBackup' }, step: 'migrate' },
  restoring: { value: { recovering: 'restoring' }, step: 'restoreBackup' },
  needsUser: { value: 'needsUser', step: null },
  failed: { value: 'failed', step: null },
  ready: { value: 'ready', step: null },
} as const

/** A model state's name. */
export type LoadModelState = keyof typeof MODEL_STATES

// A rejected backup: back to the user when they picked it, else the next one, else the user.
const rejected = [
  { guard: 'picked', target: 'needsUser', actions: 'toUser' },
  { guard: 'moreBackups', target: 'loadingBackup', actions: 'takeNext' },
  { target: 'needsUser', actions: 'toUser' },
] as const

/** The model. Pure: no invoke, no delays, so `xstate/graph` can walk it. */
export const loadModel = setup({
  types: { context: {} as LoadModelContext, events: {} as LoadModelEvent },
  guards: {
    picked: ({ context }) => context.picked,
    moreBackups: ({ context }) => context.remaining > 0,
    hasBackups: ({ context }) => context.backups > 0,
    // A backup busy for a moment is read again, three reads in all, before it is given up for an older one.
    readsLeft: ({ context }) => context.retries < 2,
    // No file, no backups, and nothing was found wrong earlier: the very first run.
    firstRun: ({ context }) => context.problem === 'absent',
  },
  actions: {
    noteAbsent: assign({
      problem: ({ context }) => (context.problem === 'none' ? 'absent' : context.problem),
    }),
    noteDamage: assign({ problem: 'damaged' }),
    takeNext: assign({
      remaining: ({ context }) => (context.remaining - 1) as 0 | 1,
      picked: false,
      retries: 0,
    }),
    toUser: assign({ picked: false }),
    pick: assign({ picked: true, retries: 0 }),
    retry: assign({ retries: ({ context }) => (context.retries + 1) as 1 | 2 }),
    reset: assign({ backups: 0, remaining: 0, picked: false, retries: 0 }),
  },
}).createMachine({
  id: 'loadModel',
  initial: 'reading',
  context: { backups: 0, remaining: 0, picked: false, retries: 0, problem: 'none', readyAs: null },
  states: {
    reading: {
      on: {
        'primary.valid': { target: 'ready', actions: assign({ readyAs: 'primary' }) },
        'primary.old': 'migrating',
        'primary.newer': { target: 'ready', actions: assign({ readyAs: 'readOnly' }) },
        'primary.absent': { target: 'listing', actions: 'noteAbsent' },
        'primary.corrupt': { target: 'quarantining', actions: 'noteDamage' },
        'primary.undecodableNewer': { target: 'ready', actions: assign({ readyAs: 'readOnlyEmpty' }) },
        'primary.unreadable': 'failed',
      },
    },
    migrating: {
      on: {
        'migrate.ok': { target: 'ready', actions: assign({ readyAs: 'migrated' }) },
        'migrate.invalid': { target: 'quarantining', actions: 'noteDamage' },
        'migrate.ioError': 'failed',
      },
    },
    quarantining: {
      on: { 'quarantine.ok': 'listing', 'quarantine.fail': 'failed' },
    },
    listing: {
      on: {
        'list.none': [
          { guard: 'firstRun', target: 'ready', actions: assign({ readyAs: 'firstRun' }) },
          { target: 'needsUser', actions: 'toUser' },
        ],
        'list.one': {
          target: 'loadingBackup',
          actions: assign({ backups: 1, remaining: 0, picked: false, retries: 0 }),
        },
        'list.two': {
          target: 'loadingBackup',
          actions: assign({ backups: 2, remaining: 1, picked: false, retries: 0 }),
        },
        'list.fail': 'failed',
      },
    },
    loadingBackup: {
      on: {
        'backup.valid': 'restoring',
        'backup.old': 'migratingBackup',
        'backup.newer': [...rejected],
        'backup.corrupt': [...rejected],
        'backup.busy': [{ guard: 'readsLeft', target: 'retryingBackup', actions: 'retry' }, ...rejected],
      },
    },
    retryingBackup: {
      on: { 'clock.retryDelay': 'loadingBackup' },
    },
    migratingBackup: {
      on: {
        'migrate.ok': 'restoring',
        'migrate.invalid': [...rejected],
        'migrate.ioError': [...rejected],
      },
    },
    restoring: {
      on: {
        'restore.ok': { target: 'ready', actions: assign({ readyAs: 'backup' }) },
        'restore.fail': 'failed',
      },
    },
    needsUser: {
      on: {
        'user.useBackup': { guard: 'hasBackups', target: 'loadingBackup', actions: 'pick' },
        'user.startEmpty': { target: 'ready', actions: assign({ readyAs: 'startedEmpty' }) },
        'user.retry': { target: 'reading', actions: 'reset' },
      },
    },
    failed: {
      on: { 'user.retry': { target: 'reading', actions: 'reset' } },
    },
    ready: { type: 'final' },
  },
})
