import { describe, expect, it } from 'vitest'
import { SaveflowError } from '../../src/core/errors'
import { userSettingsSchema } from '../../src/core/schemas'
import { createSettingsStore, settingsOf } from '../../src/zustand/settings-store'

describe('createSettingsStore', () => {
  it('starts from the schema defaults', () => {
    expect(settingsOf(createSettingsStore().getState())).toEqual(userSettingsSchema.parse({}))
  })

  it('applies a valid persistence change and keeps unchanged groups the same objects', () => {
    const s = createSettingsStore()
    const editor = s.getState().editor
    s.getState().setPersistence({ saveDebounce: 1000, retry: { maxAttempts: 3 } })
    expect(s.getState().persistence.saveDebounce).toBe(1000)
    expect(s.getState().persistence.retry).toMatchObject({ maxAttempts: 3, delay: 500 })
    expect(s.getState().editor).toBe(editor)
  })

  it('rejects a bad debounce with a typed error and leaves the store unchanged', () => {
    const s = createSettingsStore()
    const state = s.getState()
    let caught: unknown
    try {
      s.getState().setPersistence({ saveDebounce: -5 })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(SaveflowError)
    expect(caught).toMatchObject({ code: 'invalid-data' })
    expect((caught as SaveflowError).message).toContain('persistence.saveDebounce')
    expect(s.getState()).toBe(state)
  })

  it('rejects other invalid preferences too', () => {
    const s = createSettingsStore()
    expect(() => s.getState().setEditor({ fontSize: 500 })).toThrowError(
      expect.objectContaining({ code: 'invalid-data' }),
    )
    expect(() => s.getState().update({ theme: 'neon' as 'dark' })).toThrowError(
      expect.objectContaining({ code: 'invalid-data' }),
    )
  })

  it('does not change state when an update changes nothing', () => {
    const s = createSettingsStore()
    const state = s.getState()
    s.getState().setTheme('system')
    expect(s.getState()).toBe(state)
  })

  it('resets to the defaults and keeps the dialog flag out of the data', () => {
    const s = createSettingsStore({ initial: { theme: 'dark' } })
    s.getState().setDialogOpen(true)
    s.getState().reset()
    expect(s.getState().theme).toBe('system')
    expect(settingsOf(s.getState())).not.toHaveProperty('dialogOpen')
  })
})
