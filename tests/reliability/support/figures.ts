import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The figures of a run. Each test file records its own part (files run in separate workers, so they cannot share
 * memory); the global teardown merges the parts into `results/latest.json`, prints them and writes them into the
 * README. Parts go to a temp folder that the global setup empties, so a stale part never reaches a report.
 */

export const PARTS_DIR = join(tmpdir(), 'saveflow-reliability-parts')

/** One figure: a count, a measure, or a short text. */
export type Figure = number | string | boolean

/** Records (merging with what the same part recorded before in this run) the figures of `part`. */
export function recordFigures(part: string, figures: Readonly<Record<string, Figure>>): void {
  mkdirSync(PARTS_DIR, { recursive: true })
  const file = join(PARTS_DIR, `${part}.json`)
  let previous: Record<string, Figure> = {}
  try {
    previous = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Figure>
  } catch {
    // First figures of this part in this run.
  }
  writeFileSync(file, `${JSON.stringify({ ...previous, ...figures })}\n`)
}

/** Every part recorded in this run, by name. */
export function readParts(): Record<string, Record<string, Figure>> {
  const parts: Record<string, Record<string, Figure>> = {}
  let names: string[] = []
  try {
    names = readdirSync(PARTS_DIR).filter((name) => name.endsWith('.json'))
  } catch {
    return parts
  }
  for (const name of names.sort()) {
    parts[name.slice(0, -5)] = JSON.parse(readFileSync(join(PARTS_DIR, name), 'utf8')) as Record<
      string,
      Figure
    >
  }
  return parts
}
