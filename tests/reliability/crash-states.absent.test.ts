import { describe, it } from 'vitest'
import { exploreFrom } from './support/crash-suite'

describe('crash-state exploration from an empty folder', () => {
  it('keeps I1-I5 in every crash state of every sequence of up to three operations', async () => {
    await exploreFrom('absent', 10_500)
  })
})
