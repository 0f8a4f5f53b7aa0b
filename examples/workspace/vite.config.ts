import nodePath from 'node:path'
import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const here = nodePath.dirname(fileURLToPath(import.meta.url))
const src = nodePath.resolve(here, '../../src')

/**
 * Builds the page into `dist/`; the app server (`server/main.ts`) serves it with the run's token written into
 * `index.html`. There is no dev server: the page only works served by the app server, which owns the folder.
 */
export default defineConfig({
  root: here,
  plugins: [react()],
  // The app imports saveflow by its package names, as an application would; inside this repository they are the
  // sources. (TypeScript and Node resolve the same names through package.json `exports`.)
  resolve: {
    alias: [
      { find: /^saveflow$/, replacement: nodePath.join(src, 'core/index.ts') },
      { find: /^saveflow\/(react|zustand|testing)$/, replacement: nodePath.join(src, '$1/index.ts') },
    ],
  },
  build: {
    outDir: nodePath.join(here, 'dist'),
    emptyOutDir: true,
    // The page runs in current browsers only (Chromium, Electron).
    target: 'es2022',
    reportCompressedSize: false,
    // One bundle of about 500 kB (React, xstate, zod), served from 127.0.0.1: splitting it would buy nothing.
    chunkSizeWarningLimit: 1024,
  },
  logLevel: 'warn',
})
