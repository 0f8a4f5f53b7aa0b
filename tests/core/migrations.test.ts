import { describe, expect, it } from 'vitest'
import {
  assertMigrationChain,
  type Migration,
  runMigrations,
  SETTINGS_MIGRATIONS,
} from '../../src/core/migrations'

const step = (from: number, migrate: (d: unknown) => unknown = (d) => d): Migration => ({
  from,
  to: from + 1,
  description: `step ${from}`,
  migrate,
})

describe('migrations', () => {
  it('accepts a gap-free chain and rejects a broken one', () => {
    expect(() => assertMigrationChain('project', [], 1)).not.toThrow()
    expect(() => assertMigrationChain('project', [step(1), step(2)], 3)).not.toThrow()
    expect(() => assertMigrationChain('project', [step(1)], 3)).toThrow(/needs 2 migration steps/)
    expect(() => assertMigrationChain('project', [step(2), step(1)], 3)).toThrow(/expected 1 -> 2/)
    expect(() => assertMigrationChain('project', [], 0)).toThrow(
      expect.objectContaining({ code: 'invalid-data' }),
    )
  })

  it('runs the steps in order from the file version up', () => {
    const chain = [step(1, (d) => [...(d as number[]), 2]), step(2, (d) => [...(d as number[]), 3])]
    expect(runMigrations('project', chain, [1], 1, 3)).toEqual([1, 2, 3])
    expect(runMigrations('project', chain, [2], 2, 3)).toEqual([2, 3])
    expect(runMigrations('project', chain, [3], 3, 3)).toEqual([3])
  })

  it('turns a step that throws into invalid-data naming the step', () => {
    const chain = [
      step(1, () => {
        throw new TypeError('boom')
      }),
    ]
    expect(() => runMigrations('settings', chain, {}, 1, 2)).toThrow(
      expect.objectContaining({ code: 'invalid-data', details: { kind: 'settings', from: 1, to: 2 } }),
    )
    expect(() => runMigrations('settings', [], {}, 1, 2)).toThrow(
      expect.objectContaining({ code: 'invalid-data' }),
    )
  })

  it('adds the editor preferences in settings version 2 without touching the input', () => {
    const v1 = Object.freeze({ theme: 'dark', language: 'de' })
    expect(runMigrations('settings', SETTINGS_MIGRATIONS, v1, 1, 2)).toEqual({
      theme: 'dark',
      language: 'de',
      editor: { fontSize: 14, wordWrap: true },
    })
    expect(runMigrations('settings', SETTINGS_MIGRATIONS, 'junk', 1, 2)).toBe('junk')
  })
})
