/** Deterministic time and ids for the reference stores: the same data on every run. */
export function testEnvironment(start = Date.parse('2026-01-15T10:00:00.000Z')) {
  let now = start
  let next = 0
  return {
    now: () => now,
    createId: () => `id${++next}`,
    advance(ms: number) {
      now += ms
    },
  }
}
