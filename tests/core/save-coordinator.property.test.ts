import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { selectWritesInFlight } from '../../src/core/save-selectors'
import type { DocumentKind } from '../../src/core/status'
import { createTestCoordinator } from '../machines/harness'

const DOCS: Array<[key: string, kind: DocumentKind]> = [
  ['settings', 'settings'],
  ['project', 'project'],
  ['conversation/a', 'conversation'],
  ['cache/x', 'cache'],
]
const FAULTS = ['EIO', 'EBUSY', 'EMFILE', 'ENOSPC', 'EACCES', 'EROFS'] as const

type Move =
  | { type: 'edit'; doc: number }
  | { type: 'flush'; doc: number }
  | { type: 'flushAll' }
  | { type: 'retry'; doc: number }
  | { type: 'time'; ms: number }
  | { type: 'fault'; doc: number; code: (typeof FAULTS)[number] | null }
  | { type: 'pause' }
  | { type: 'resume' }

const doc = fc.nat({ max: DOCS.length - 1 })
const move: fc.Arbitrary<Move> = fc.oneof(
  { weight: 6, arbitrary: doc.map((d) => ({ type: 'edit' as const, doc: d })) },
  { weight: 1, arbitrary: doc.map((d) => ({ type: 'flush' as const, doc: d })) },
  { weight: 1, arbitrary: fc.constant({ type: 'flushAll' as const }) },
  { weight: 1, arbitrary: doc.map((d) => ({ type: 'retry' as const, doc: d })) },
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 1500 }).map((ms) => ({ type: 'time' as const, ms })) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('fault' as const),
      doc,
      code: fc.constantFrom(...FAULTS, null),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'pause' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'resume' as const }) },
)

const scenario = fc.record({
  moves: fc.array(move, { minLength: 1, maxLength: 40 }),
  writeMs: fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 8 }),
  saveDebounce: fc.integer({ min: 0, max: 300 }),
  maxWait: fc.integer({ min: 100, max: 1000 }),
  maxConcurrentWrites: fc.integer({ min: 1, max: 3 }),
  jitter: fc.double({ min: 0, max: 0.999, noNaN: true }),
})

describe('createSaveCoordinator (property)', () => {
  it('ends with every document holding its last edit, with no overlap, no excess write and no leaked slot', async () => {
    await fc.assert(
      fc.asyncProperty(
        scenario,
        async ({ moves, writeMs, saveDebounce, maxWait, maxConcurrentWrites, jitter }) => {
          const { clock, storage, coordinator } = createTestCoordinator({
            config: {
              saveDebounce,
              maxWait,
              maxConcurrentWrites,
              retry: { maxAttempts: 3, delay: 20, maxDelay: 500 },
            },
            random: () => jitter,
          })
          for (const [key, kind] of DOCS) coordinator.register(key, { kind })
          const faults = new Map<string, string>()
          let writes = 0
          storage.fallback = (request) => {
            const ms = writeMs[writes++ % writeMs.length] as number
            const fail = faults.get(request.key)
            return fail === undefined ? { ms } : { ms, fail }
          }
          const lastEdit = new Map<string, unknown>()
          const checkInvariants = () => {
            const inFlight = selectWritesInFlight(coordinator.actor.getSnapshot())
            expect(inFlight).toBeLessThanOrEqual(maxConcurrentWrites)
            // Every write running on the storage holds a slot.
            expect(storage.inFlight).toBeLessThanOrEqual(inFlight)
            for (const [key] of DOCS) {
              const status = coordinator.status(key)
              // Only the revision that was written is marked saved (never a newer one edited meanwhile)...
              const written = storage.writesOf(key).filter((write) => write.outcome === 'ok')
              expect(status.savedRevision).toBe(written.at(-1)?.revision ?? 0)
              // ...and a document shown as saved really has its last edit on disk.
              if (status.status === 'saved') expect(storage.stored.get(key)).toEqual(lastEdit.get(key))
            }
          }

          for (const [n, next] of moves.entries()) {
            const key = 'doc' in next ? (DOCS[next.doc] as [string, DocumentKind])[0] : ''
            if (next.type === 'edit') {
              const data = { key, n }
              coordinator.change(key, data)
              lastEdit.set(key, data)
            } else if (next.type === 'flush') void coordinator.flush(key)
            else if (next.type === 'flushAll') void coordinator.flushAll()
            else if (next.type === 'retry') coordinator.retry(key)
            else if (next.type === 'time') await clock.advance(next.ms)
            else if (next.type === 'fault') {
              if (next.code === null) faults.delete(key)
              else faults.set(key, next.code)
            } else if (next.type === 'pause') coordinator.pause()
            else coordinator.resume()
            await clock.advance(0)
            checkInvariants()
          }

          // The faults stop and writes are allowed again. Writes already running keep the outcome they started with,
          // so once they have ended the user presses Retry where saving gave up; then time passes.
          faults.clear()
          coordinator.resume()
          await clock.advance(1000)
          for (const key of coordinator.keys()) {
            if (coordinator.status(key).status === 'failed') coordinator.retry(key)
          }
          await clock.advance(10_000)

          for (const [key] of DOCS) {
            expect(storage.stored.get(key)).toEqual(lastEdit.get(key))
            expect(coordinator.status(key)).toMatchObject({ status: 'saved', attempt: 0 })
          }
          expect(storage.overlaps).toBe(0)
          expect(storage.maxInFlight).toBeLessThanOrEqual(maxConcurrentWrites)
          expect(storage.inFlight).toBe(0)
          expect(coordinator.actor.getSnapshot().context).toMatchObject({ holders: [], queue: [] })
          coordinator.stop()
        },
      ),
      { numRuns: 200 },
    )
  }, 60_000)
})
