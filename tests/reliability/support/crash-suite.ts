import { expect } from 'vitest'
import { exploreWorkloads, sequencesOf } from './crash-explorer'
import type { OpName, Start } from './crash-workload'
import { recordFigures } from './figures'

/** The operations of part 1, and the run shared by its test files (one file per starting disk, two run at once). */
export const OPERATIONS: readonly OpName[] = [
  'saveProject',
  'saveSettings',
  'appendMessages',
  'editMessage',
  'rotateBackups',
  'compact',
  'restore',
  'reopen',
]

/** Every sequence of up to three operations from `start`; records the figures and asserts no violation. */
export async function exploreFrom(start: Start, minimumStates: number): Promise<void> {
  const sequences = sequencesOf(OPERATIONS, 3)
  const began = performance.now()
  const totals = await exploreWorkloads([start], sequences)
  recordFigures(`crash-${start}`, {
    workloads: totals.workloads,
    operations: totals.operations,
    crashStates: totals.states,
    crashStatesInRecovery: totals.nestedStates,
    distinctDiskStates: totals.diskStates,
    sessionChecks: totals.sessionChecks,
    violations: totals.violations.length,
    seconds: Math.round((performance.now() - began) / 100) / 10,
  })
  expect(totals.violations.slice(0, 20)).toEqual([])
  expect(totals.workloads).toBe(sequences.length)
  // The run reached the states it is meant to: a harness that stopped exploring would pass vacuously. The three
  // files' minimums add up to more than 50,000, the issue's target for a run (the figures sum what they found).
  expect(totals.states + totals.nestedStates).toBeGreaterThanOrEqual(minimumStates)
}
