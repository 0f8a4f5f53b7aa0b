// Writes schemas/<kind>.schema.json from the zod schemas: `npx tsx scripts/generate-schemas.ts`.
// tests/core/json-schemas.test.ts fails when the committed files differ from what this writes.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { documentJsonSchemas } from '../src/core/json-schemas'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'schemas')
mkdirSync(out, { recursive: true })
const written: string[] = []
for (const [name, schema] of Object.entries(documentJsonSchemas())) {
  const file = join(out, name)
  writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`)
  written.push(file)
}
// Format as the linter expects, so `npm run lint` stays clean after a regeneration.
execFileSync('npx', ['biome', 'format', '--write', ...written], { cwd: root, stdio: 'inherit' })
console.log(`Wrote ${written.length} schema files to ${out}`)
