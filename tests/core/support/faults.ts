import type { SaveflowErrorCode } from '../../../src/core/errors'
import type { FaultCode, FaultRule, FaultyCall } from '../../../src/testing'

/** Helpers for fault matrices: DESIGN.md's error table, and a rule that hits exactly one recorded call. */

/** DESIGN.md "Errors": what each injected system error becomes. */
export const FAULT_TABLE: readonly [FaultCode, SaveflowErrorCode][] = [
  ['ENOSPC', 'disk-full'],
  ['EACCES', 'permission-denied'],
  ['EIO', 'io'],
  ['EMFILE', 'busy'],
  ['EBUSY', 'busy'],
  ['EPERM', 'permission-denied'],
]

/**
 * A rule hitting exactly call `index` of `calls` (the calls of a run without faults): the same op and paths, after
 * skipping the earlier calls that look the same. Transient: that call only. Persistent: it and every later call
 * that looks the same.
 */
export function ruleFor(
  calls: readonly FaultyCall[],
  index: number,
  code: FaultCode,
  persistent: boolean,
): FaultRule {
  const target = calls[index]!
  const same = (c: FaultyCall) => c.op === target.op && c.path === target.path && c.to === target.to
  const skip = calls.slice(0, index).filter(same).length
  const exact = new RegExp(`^${(target.to ?? target.path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
  return { op: target.op, path: exact, code, skip, ...(persistent ? {} : { times: 1 }) }
}

/** A short name of a call, for test labels. */
export const callLabel = (call: FaultyCall): string =>
  `${call.op} ${call.path}${call.to === undefined ? '' : ` -> ${call.to}`}`
