import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

// The reliability suite (issue 7) has its own config rather than a project in the root one: `npm run test:unit`
// runs every project of the root config with coverage, and this suite must run alone, without coverage, with
// `--expose-gc` (the soak measures the heap after a collection) and at most two files at a time (two cores).
export default defineConfig({
  root,
  test: {
    name: 'reliability',
    include: ['tests/reliability/**/*.test.ts'],
    environment: 'node',
    execArgv: ['--expose-gc'],
    maxWorkers: 2,
    testTimeout: 300_000,
    hookTimeout: 60_000,
    globalSetup: ['tests/reliability/support/global-setup.ts'],
  },
})
