import { describe, expect, it } from 'vitest'
import type { BrokenRule } from '../../src/testing/crash-states'
import { exploreWorkloads } from './support/crash-explorer'
import { type DiskOptions, type OpName, withoutChecksums } from './support/crash-workload'
import { recordFigures } from './support/figures'

/**
 * The harness proves it can fail: the same exploration, on write paths with one durability rule removed, must find
 * at least one violation each. A harness that finds nothing here would find nothing anywhere.
 */

const SEQUENCES: readonly (readonly OpName[])[] = [
  ['saveSettings'],
  ['saveProject'],
  ['appendMessages'],
  ['editMessage'],
  ['compact'],
  ['restore'],
  ['saveProject', 'saveProject'],
  ['editMessage', 'editMessage'],
]

const VARIANTS: readonly [string, DiskOptions][] = [
  ['no file fsync', { broken: 'no-file-fsync' satisfies BrokenRule }],
  ['no folder fsync', { broken: 'no-dir-fsync' satisfies BrokenRule }],
  ['rename before fsync', { broken: 'rename-before-fsync' satisfies BrokenRule }],
  ['records and snapshots read without checksum', { wrap: withoutChecksums }],
]

const caught: Record<string, number> = {}

describe('crash-state exploration of broken write paths', () => {
  it.each(VARIANTS)('catches a write path with %s', async (name, disk) => {
    let found: string[] = []
    for (const sequence of SEQUENCES) {
      const totals = await exploreWorkloads(['valid'], [sequence], { ...disk, stopAtFirstViolation: true })
      found = totals.violations
      if (found.length > 0) break
    }
    caught[name] = found.length
    recordFigures('crash-variants', caught)
    expect(found.length, `no violation found with ${name}`).toBeGreaterThanOrEqual(1)
  })
})
