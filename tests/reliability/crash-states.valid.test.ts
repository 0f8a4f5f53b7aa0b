import { describe, it } from 'vitest'
import { exploreFrom } from './support/crash-suite'

describe('crash-state exploration from a valid workspace', () => {
  it('keeps I1-I5 in every crash state of every sequence of up to three operations', async () => {
    await exploreFrom('valid', 22_000)
  })
})
