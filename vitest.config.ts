import { defineConfig } from 'vitest/config'

// One config, several projects: `unit` runs in Node. Browser projects (components, stories) join here as they come.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/reliability/**', 'node_modules/**'],
          environment: 'node',
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
