import { expect, waitFor, within } from 'storybook/test'
import { createScenario, type Scenario, type ScenarioOptions } from './scenario'

/**
 * A loader that builds the story's scenario and opens its documents (so the story renders after the load machine
 * settled); play functions read it back with {@link scenarioOf}.
 */
export function scenarioLoader(options: () => ScenarioOptions) {
  return async () => ({ scenario: await createScenario(options()) })
}

/** The scenario a loader built for this story. */
export function scenarioOf(context: { loaded: Record<string, unknown> }): Scenario {
  const scenario = context.loaded.scenario
  if (scenario === undefined) throw new Error('this story has no scenario loader')
  return scenario as Scenario
}

/** Stops the scenario's actors and clock when the story is left (a `beforeEach` of every scenario story). */
export function disposeScenario(context: { loaded: Record<string, unknown> }) {
  return () => {
    ;(context.loaded.scenario as Scenario | undefined)?.dispose()
  }
}

/** The visible label of the badge inside `container` (the first one). */
export function badgeLabel(container: HTMLElement): string {
  const label = container.querySelector('[data-part="label"]')
  if (label === null) throw new Error('no badge here')
  return label.textContent ?? ''
}

/** The region of one document (its editor and badge). */
export function documentRegion(canvasElement: HTMLElement, label: string): HTMLElement {
  return within(canvasElement).getByRole('region', { name: label })
}

/** Waits until the badge in `container` reads `expected` (a string or pattern). */
export async function expectBadge(container: HTMLElement, expected: string | RegExp) {
  await waitFor(() =>
    typeof expected === 'string'
      ? expect(badgeLabel(container)).toBe(expected)
      : expect(badgeLabel(container)).toMatch(expected),
  )
}

/** The writes the story's disk log shows, as text, oldest first. */
export function diskWrites(canvasElement: HTMLElement): string[] {
  const disk = within(canvasElement).getByRole('region', { name: 'Disk' })
  return Array.from(disk.querySelectorAll('li'), (item) => item.textContent ?? '')
}
