import { describe, expect, it } from 'vitest'
import { DEFAULT_PERSISTENCE_CONFIG, resolvePersistenceConfig } from '../../src/core/config'
import { SaveflowError } from '../../src/core/errors'

describe('resolvePersistenceConfig', () => {
  it('fills every field left out with its default', () => {
    const config = resolvePersistenceConfig({ saveDebounce: 50, retry: { maxAttempts: 2 } })
    expect(config.saveDebounce).toBe(50)
    expect(config.retry).toEqual({ ...DEFAULT_PERSISTENCE_CONFIG.retry, maxAttempts: 2 })
    expect(config.maxWait).toBe(DEFAULT_PERSISTENCE_CONFIG.maxWait)
  })

  it('rejects a bad field with a typed error naming it', () => {
    let caught: unknown
    try {
      resolvePersistenceConfig({ retry: { maxAttempts: 0 } })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(SaveflowError)
    expect((caught as SaveflowError).code).toBe('invalid-data')
    expect((caught as SaveflowError).details).toEqual({ field: 'retry.maxAttempts' })
  })
})
