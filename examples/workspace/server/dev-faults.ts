import { readFile, rename, writeFile } from 'node:fs/promises'
import nodePath from 'node:path'
import type { FaultRule, FaultyStorage } from 'saveflow/testing'
import type { FaultAction, FaultState } from '../src/faults-api'

/**
 * The developer panel's faults, applied to the server's storage while the app runs: how a user sees saveflow's
 * failure modes live. Each action maps to a rule of `createFaultyStorage` on the calls that save (`writeAtomic`,
 * `append`); reads stay healthy so the page can still load. "Corrupt" damages a file on disk directly, the way a
 * crash or another program would, for the recovery path to find on the next load.
 */

// The shapes are declared beside the page's caller, which must not import server code; re-exported for the server.
export type { FaultAction, FaultState }

/** The actions, for checking a request. */
export const FAULT_ACTIONS: readonly FaultAction[] = [
  'state',
  'disk-full',
  'permission-denied',
  'slow',
  'flaky',
  'clear',
  'corrupt-project',
  'corrupt-settings',
]

/** How long a write takes on the "slow disk". */
export const SLOW_DISK_MS = 2500

const SAVING_OPS = ['writeAtomic', 'append'] as const

const RULES: Readonly<Record<'disk-full' | 'permission-denied' | 'slow' | 'flaky', [string, FaultRule]>> = {
  'disk-full': ['Disk full (ENOSPC)', { op: SAVING_OPS, code: 'ENOSPC' }],
  'permission-denied': ['Permission denied (EACCES)', { op: SAVING_OPS, code: 'EACCES' }],
  slow: [`Slow disk (${SLOW_DISK_MS / 1000} s per write)`, { op: SAVING_OPS, delayMs: SLOW_DISK_MS }],
  // Two failures then success: the retry with backoff is what saves the data.
  flaky: ['Flaky disk (EIO twice, then fine)', { op: SAVING_OPS, code: 'EIO', times: 2 }],
}

/** The fault controls of one server. */
export interface DevFaults {
  apply(action: FaultAction): Promise<FaultState>
}

/** Creates the controls over `storage` (the faulty wrapper of the workspace's fs backend) and the folder `dir`. */
export function createDevFaults(storage: FaultyStorage, dir: string): DevFaults {
  const labels = new Map<number, string>()

  const state = (message: string): FaultState => ({
    faults: storage
      .rules()
      // A flaky rule that used its two failures is over: it no longer belongs in the list.
      .filter((rule) => rule.used < (rule.times ?? Number.POSITIVE_INFINITY))
      .map((rule) => ({ id: rule.id, label: labels.get(rule.id) ?? 'Fault', used: rule.used })),
    message,
  })

  /**
   * Cuts the file in half, as a torn write would: the envelope no longer parses, the checksum cannot match. The
   * damaged copy replaces the file by rename rather than being written into it: a backup may be a hard link to the
   * current file (saveflow never writes a file in place), and writing through that inode would damage the backup
   * with it.
   */
  const corrupt = async (file: string): Promise<FaultState> => {
    const path = nodePath.join(dir, file)
    let bytes: Buffer
    try {
      bytes = await readFile(path)
    } catch {
      return state(`${file} does not exist yet; save something first.`)
    }
    const damaged = `${path}.damaged-${process.pid}`
    await writeFile(damaged, bytes.subarray(0, Math.floor(bytes.length / 2)), { mode: 0o600 })
    await rename(damaged, path)
    return state(`${file} was cut in half. Reload the page to see the recovery.`)
  }

  return {
    async apply(action) {
      switch (action) {
        case 'state':
          return state('')
        case 'clear':
          storage.clear()
          labels.clear()
          // A document waiting to retry is not nudged: it saves at its next attempt, by itself, as it would once
          // a real disk had space again.
          return state('Faults cleared. Waiting saves go through at their next attempt (see the badge).')
        case 'corrupt-project':
          return corrupt('project.json')
        case 'corrupt-settings':
          return corrupt('settings.json')
        default: {
          const [label, rule] = RULES[action]
          labels.set(storage.addRule(rule), label)
          return state(`${label} is on.`)
        }
      }
    },
  }
}
