import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { storybookTest } from '@storybook/addon-vitest/vitest-plugin'
import react from '@vitejs/plugin-react'
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'

const dirname = path.dirname(fileURLToPath(import.meta.url))

// Only Debian's Chromium can run on these machines: without `executablePath` Playwright looks for a browser download
// that cannot exist here (TOOLCHAIN.md). The flags keep it from reaching the network or needing a GPU or sandbox.
const chromium = () =>
  playwright({
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  })

// Pre-bundled up front: a dependency discovered in the middle of a browser run makes Vite reload the page, and a
// test file can fail on a clean clone's first run (CI) for that reason alone.
const browserDeps = [
  'react',
  'react-dom',
  'react-dom/client',
  'react/jsx-runtime',
  'react/jsx-dev-runtime',
  'sonner',
  'xstate',
  '@xstate/react',
  'zod',
]

// One config, several projects: `unit` runs in Node; `react` (component tests) and `storybook` (every story's play
// function) run in headless Chromium.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/reliability/**', 'tests/e2e/**', 'node_modules/**'],
          environment: 'node',
        },
      },
      {
        // The workspace app end to end: its server as a child process, its page in headless Chromium driven by
        // playwright-core from Node. One test file, so one browser serves every test.
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [react()],
        optimizeDeps: {
          include: [
            ...browserDeps,
            '@testing-library/react',
            '@testing-library/user-event',
            '@testing-library/jest-dom/vitest',
          ],
        },
        test: {
          name: 'react',
          include: ['tests/react/**/*.test.tsx'],
          setupFiles: ['tests/react/setup.ts'],
          browser: {
            enabled: true,
            headless: true,
            provider: chromium(),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        plugins: [storybookTest({ configDir: path.join(dirname, '.storybook') })],
        optimizeDeps: { include: browserDeps },
        test: {
          name: 'storybook',
          browser: {
            enabled: true,
            headless: true,
            provider: chromium(),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
    coverage: {
      provider: 'v8',
      include: ['machines/**/*.ts', 'src/**/*.{ts,tsx}'],
      reporter: ['text-summary', 'text'],
      thresholds: {
        'machines/**': { branches: 95 },
      },
    },
  },
})
