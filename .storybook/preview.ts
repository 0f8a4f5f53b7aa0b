import type { Preview } from '@storybook/react-vite'
import { configure } from 'storybook/test'

// Play functions wait for conditions, never for durations; on a busy two-core CI machine a condition can take more
// than Testing Library's default second to show up, so they may wait longer before giving up.
configure({ asyncUtilTimeout: 5000 })

/** Shared story settings. Each story builds (and a `beforeEach` disposes) its own scenario, so nothing global leaks. */
const preview: Preview = {
  parameters: {
    layout: 'padded',
  },
}

export default preview
