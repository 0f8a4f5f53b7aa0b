import type { Clock } from '../../src/core/save-coordinator'

/**
 * Simulated time for stories, like xstate's `SimulatedClock`, with two additions the stories need: `advance` fires
 * each timer at its own moment and lets promises settle in between (a slow write of the faulty storage resolves on
 * this clock, and the save actor reacts before the next timer fires), and listeners see the time move (the toolbar
 * shows it).
 */
export class StoryClock implements Clock {
  #time: number
  #nextId = 1
  readonly #timers = new Map<number, { at: number; fn: () => void }>()
  readonly #listeners = new Set<() => void>()
  #running: ReturnType<typeof setInterval> | null = null
  #queue: Promise<void> = Promise.resolve()

  constructor(start = 0) {
    this.#time = start
  }

  now(): number {
    return this.#time
  }

  setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const id = this.#nextId++
    this.#timers.set(id, { at: this.#time + Math.max(0, timeout), fn })
    return id
  }

  clearTimeout(id: unknown): void {
    this.#timers.delete(id as number)
  }

  /**
   * Resolves after `ms` of simulated time, or rejects with the signal's reason when it aborts first: the latency of
   * the faulty storage (its `sleep` option) runs on this clock, so a slow disk is slow in simulated time.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason)
        return
      }
      const id = this.setTimeout(() => resolve(), ms)
      signal?.addEventListener(
        'abort',
        () => {
          this.clearTimeout(id)
          reject(signal.reason)
        },
        { once: true },
      )
    })
  }

  /** Moves time forward by `ms`. Calls are queued, so a toolbar click and a running clock never interleave. */
  advance(ms: number): Promise<void> {
    this.#queue = this.#queue.then(() => this.#advance(ms))
    return this.#queue
  }

  /** Runs time at real speed (for people watching a story); `stop` halts it. */
  run(): void {
    if (this.#running !== null) return
    this.#running = setInterval(() => void this.advance(100), 100)
    this.#notify()
  }

  stop(): void {
    if (this.#running !== null) clearInterval(this.#running)
    this.#running = null
    this.#notify()
  }

  get running(): boolean {
    return this.#running !== null
  }

  /** Called whenever the time moves or the clock starts or stops. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async #advance(ms: number): Promise<void> {
    const target = this.#time + ms
    for (;;) {
      const due = this.#earliest(target)
      if (due === undefined) break
      const [id, timer] = due
      this.#timers.delete(id)
      this.#time = timer.at
      timer.fn()
      await settle()
    }
    this.#time = target
    await settle()
    this.#notify()
  }

  #earliest(until: number): [number, { at: number; fn: () => void }] | undefined {
    let found: [number, { at: number; fn: () => void }] | undefined
    // Map order is insertion order, so among timers due at the same moment the first one set fires first.
    for (const entry of this.#timers) {
      if (entry[1].at > until) continue
      if (found === undefined || entry[1].at < found[1].at) found = entry
    }
    return found
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener()
  }
}

/**
 * Lets every pending promise callback run, and React render: a message-channel task comes after the microtasks,
 * and unlike `setTimeout(0)` it is not clamped to 4 ms when nested.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel()
    channel.port1.onmessage = () => {
      channel.port1.close()
      resolve()
    }
    channel.port2.postMessage(null)
  })
}
