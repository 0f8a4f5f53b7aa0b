import '@testing-library/jest-dom/vitest'
import { cleanup, configure } from '@testing-library/react'
import { afterEach } from 'vitest'

// Tests wait for conditions, never for durations; a busy CI machine may need more than the default second.
configure({ asyncUtilTimeout: 5000 })

// Vitest runs without globals here, so Testing Library cannot register its own cleanup: unmount after every test.
afterEach(() => {
  cleanup()
})
