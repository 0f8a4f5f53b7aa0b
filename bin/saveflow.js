#!/usr/bin/env node
// The `saveflow` bin. The CLI is TypeScript run through tsx (no build step), so this wrapper registers tsx's ESM
// loader in this process and imports the entry; resolved from this file's real location, so it works through the
// symlink npm puts in node_modules/.bin.
import { register } from 'tsx/esm/api'

register()
await import(new URL('../src/cli/main.ts', import.meta.url).href)
