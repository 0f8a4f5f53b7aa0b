import { type CrashState, exploreCrashStates } from '../../../src/testing/crash-states'
import {
  type DiskOptions,
  expectationKey,
  type LoadMemo,
  type OpName,
  reopenAndCheck,
  runWorkload,
  type Start,
} from './crash-workload'

/**
 * Drives the crash explorer over many workloads: run each workload once, enumerate every crash state after every
 * step, reopen and check each distinct one, and crash again at the first steps of that reopen's recovery (I5).
 */

/** Options of {@link exploreWorkloads}. */
export interface ExploreWorkloadsOptions extends DiskOptions {
  /** Stop at the first violation (the broken variants only need one). @default false */
  stopAtFirstViolation?: boolean
  /** Crash points inside each reopen's recovery that are crashed again (I5). @default 4 */
  nestedPoints?: number
  /** Every n-th state opens through the full session even when every primary loads. @default 8 */
  fullEvery?: number
  /** Seed of the samples and the garbage. @default 7 */
  seed?: number
}

/** What a run of the explorer found. */
export interface ExploreTotals {
  workloads: number
  /** Operations that did something, over all workloads. */
  operations: number
  /** Distinct (crash state, what was acknowledged) pairs checked after a crash during a workload. */
  states: number
  /** Distinct states checked after a second crash inside the recovery of a first (I5). */
  nestedStates: number
  /** Distinct disk states among all of them. */
  diskStates: number
  /** Checks that went through the full session (load machine, recovery) rather than the primary loads alone. */
  sessionChecks: number
  violations: string[]
}

/** Explores every workload `start x sequence`; deduplicates states that share the same prefix of operations. */
export async function exploreWorkloads(
  starts: readonly Start[],
  sequences: readonly (readonly OpName[])[],
  options: ExploreWorkloadsOptions = {},
): Promise<ExploreTotals> {
  const nestedPoints = options.nestedPoints ?? 4
  const fullEvery = options.fullEvery ?? 8
  const disk: DiskOptions = {
    ...(options.broken === undefined ? {} : { broken: options.broken }),
    ...(options.wrap === undefined ? {} : { wrap: options.wrap }),
  }
  const totals: ExploreTotals = {
    workloads: 0,
    operations: 0,
    states: 0,
    nestedStates: 0,
    diskStates: 0,
    sessionChecks: 0,
    violations: [],
  }
  const checked = new Set<string>()
  const memo: LoadMemo = new Map()
  const diskStates = new Set<string>()
  let counter = 0

  for (const start of starts) {
    for (const ops of sequences) {
      const ran = await runWorkload(start, ops, disk)
      totals.workloads++
      totals.operations += ran.effective
      const found: { n: number; state: CrashState }[] = []
      exploreCrashStates(
        ran.storage.initial,
        ran.storage.steps,
        (n, state) => found.push({ n, state }),
        {},
        {
          seed: options.seed ?? 7,
        },
      )
      for (const { n, state } of found) {
        const expected = ran.expectationAt(n)
        const context = `${start}|${ops.slice(0, ran.opsStartedBefore(n)).join(',')}|${expectationKey(expected)}`
        const key = `${context}|${state.key}`
        if (checked.has(key)) continue
        checked.add(key)
        diskStates.add(state.key)
        totals.states++
        const full = counter++ % fullEvery === 0
        const reopened = await reopenAndCheck(state.files, expected, { ...disk, full, memo })
        if (full) totals.sessionChecks++
        if (reopened === null) continue
        const step = ran.storage.steps[n - 1]
        const where = `${start} [${ops.join(', ')}] crash after step ${n}${step === undefined ? '' : ` (${step.call} ${step.step} ${step.path})`}`
        for (const violation of reopened.violations) totals.violations.push(`${where}: ${violation}`)
        if (options.stopAtFirstViolation && totals.violations.length > 0) return finish()

        // I5: crash again at the first steps of this reopen's recovery, and check the same promises.
        const nested: CrashState[] = []
        const last = Math.min(nestedPoints, reopened.recoverySteps)
        if (last > 0 && reopened.storage !== null) {
          exploreCrashStates(
            reopened.storage.initial,
            reopened.storage.steps,
            (_, again) => nested.push(again),
            { from: 1, to: last },
            { seed: options.seed ?? 7 },
          )
        }
        for (const again of nested) {
          const nestedKey = `I5|${context}|${again.key}`
          if (checked.has(nestedKey)) continue
          checked.add(nestedKey)
          diskStates.add(again.key)
          totals.nestedStates++
          const second = await reopenAndCheck(again.files, expected, { ...disk, memo })
          for (const violation of second?.violations ?? []) {
            totals.violations.push(`${where}, then a crash during its recovery: ${violation}`)
          }
          if (options.stopAtFirstViolation && totals.violations.length > 0) return finish()
        }
      }
    }
  }
  return finish()

  function finish(): ExploreTotals {
    totals.diskStates = diskStates.size
    return totals
  }
}

/** Every sequence of 1 to `maxLength` operations from `ops` (with repeats), shortest first. */
export function sequencesOf(ops: readonly OpName[], maxLength: number): OpName[][] {
  const out: OpName[][] = []
  let layer: OpName[][] = [[]]
  for (let length = 1; length <= maxLength; length++) {
    layer = layer.flatMap((prefix) => ops.map((op) => [...prefix, op]))
    out.push(...layer)
  }
  return out
}
