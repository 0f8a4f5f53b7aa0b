import nodePath from 'node:path'
import { build } from 'vite'
import { REPO_ROOT } from './support/app-process'

/**
 * Builds the workspace app's page once before the suite, as `npm start` does before it serves it: the tests run
 * against what a user gets, never a stale `dist/`.
 */
export default async function setup(): Promise<void> {
  await build({ configFile: nodePath.join(REPO_ROOT, 'examples/workspace/vite.config.ts'), logLevel: 'warn' })
}
