import { describe, expect, it } from 'vitest'
import { createRepository } from '../../src/core/repository'
import type { SaveCoordinatorSnapshot } from '../../src/core/save-selectors'
import type { Conversation, Message, ProjectData, UserSettings } from '../../src/core/schemas'
import { createWorkspaceSession } from '../../src/core/workspace-session'
import {
  createFaultyStorage,
  createMemoryStorage,
  type FaultCode,
  type FaultRule,
  type FaultyCall,
} from '../../src/testing'
import { mulberry32 } from '../../src/testing/crash-states'
import { sampleConversation, sampleProject, sampleSettings } from '../core/support/documents'
import { TestClock } from '../machines/harness'
import { sameData } from './support/documents'
import { recordFigures } from './support/figures'

/**
 * Part 5: a soak. Twenty documents (the project, the settings, fourteen conversations, four caches) are edited at
 * random for 24 simulated hours through the real session (coordinator, save actors, load machines, repository) on
 * the memory disk behind the faulty wrapper, while faults of every code of DESIGN.md's error table are switched on
 * and off. Then the faults stop, the user presses Retry where a save failed, and time passes. Promises: every
 * document's file holds its last edit; the heap after a collection grew by less than 5 MB between the end of the
 * warm-up and the end; no timer, listener, child actor or write slot is left behind.
 */

const HOUR = 3_600_000
const SIMULATED_HOURS = 24
const WARM_UP_HOURS = 2
const MAX_HEAP_GROWTH = 5 * 1024 * 1024
const T0 = Date.parse('2026-03-01T08:00:00.000Z')
const config = {
  saveDebounce: 300,
  maxWait: 2000,
  maxConcurrentWrites: 3,
  backupInterval: 10 * 60_000,
  backupCount: 3,
  retry: { maxAttempts: 4, delay: 200, maxDelay: 5000 },
}
const CONVERSATIONS = Array.from({ length: 14 }, (_, i) => `conversation/chat${i + 1}`)
const CACHES = ['cache/models', 'cache/search', 'cache/thumbnails', 'cache/usage']
const KEYS = ['project', 'settings', ...CONVERSATIONS, ...CACHES]
const FAULT_CODES: readonly FaultCode[] = ['ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'EMFILE', 'EBUSY']

/** A test clock that also knows which of its timers are pending, to tell a leaked one. */
class SoakClock extends TestClock {
  readonly pending = new Set<number>()

  override setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const id: number = super.setTimeout((...args: unknown[]) => {
      this.pending.delete(id)
      fn(...args)
    }, timeout)
    this.pending.add(id)
    return id
  }

  override clearTimeout(id: number): void {
    this.pending.delete(id)
    super.clearTimeout(id)
  }
}

const at = (ms: number) => new Date(ms).toISOString()

/** The edits a user makes, as immutable updates (the repository diffs against the previous object). */
function editProject(project: ProjectData, random: () => number, now: number): ProjectData {
  const tree = project.tree
  if (tree.length < 40 && random() < 0.2) {
    const n = tree.length
    const node = {
      id: `n${n}`,
      parentId: `n${Math.floor(random() * n)}`,
      order: n,
      title: `Feature ${n}`,
      description: '',
      createdAt: at(now),
      updatedAt: at(now),
    }
    return { ...project, tree: [...tree, node], lastSaved: at(now) }
  }
  const i = Math.floor(random() * tree.length)
  const next = tree.slice()
  next[i] = { ...tree[i]!, title: `Feature ${i} edited ${Math.floor(random() * 1e6)}`, updatedAt: at(now) }
  return { ...project, tree: next, lastSaved: at(now) }
}

function editConversation(chat: Conversation, random: () => number, now: number): Conversation {
  const messages = chat.messages
  const last = messages.at(-1)
  if (last !== undefined && random() < 0.3) {
    // An assistant reply streaming in: the last message grows.
    const grown: Message = { ...last, content: `${last.content} more` }
    return { ...chat, messages: [...messages.slice(0, -1), grown], updatedAt: at(now) }
  }
  const message: Message = {
    id: `m${messages.length + 1}`,
    role: messages.length % 2 === 0 ? 'user' : 'assistant',
    content: `message ${messages.length + 1} at ${at(now)}`,
    createdAt: at(now),
  }
  // Old messages are trimmed past 200, as a chat that keeps a window would (a deletion the log records too).
  const kept = messages.length >= 200 ? messages.slice(1) : messages
  return { ...chat, messages: [...kept, message], updatedAt: at(now) }
}

function editSettings(settings: UserSettings, random: () => number): UserSettings {
  return {
    ...settings,
    theme: random() < 0.5 ? 'dark' : 'light',
    editor: { ...settings.editor, fontSize: 10 + Math.floor(random() * 20) },
  }
}

const editCache = (random: () => number, now: number) => ({
  fetchedAt: at(now),
  entries: Array.from({ length: 1 + Math.floor(random() * 20) }, (_, i) => ({ id: i, score: random() })),
})

/** Active host resources (timers, handles) by type. */
function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return counts
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined)
    throw new Error('the soak needs --expose-gc (tests/reliability/vitest.config.ts sets it)')
  for (let i = 0; i < 4; i++) gc()
  return process.memoryUsage().heapUsed
}

/** xstate actors keep their subscribers and event listeners here; a leak shows as a growing count. */
const listenersOf = (actor: unknown): number => {
  const internals = actor as { observers?: Set<unknown>; eventListeners?: Map<string, Set<unknown>> }
  let count = internals.observers?.size ?? 0
  for (const set of internals.eventListeners?.values() ?? []) count += set.size
  return count
}

describe('soak', () => {
  it(`keeps ${KEYS.length} documents saved through ${SIMULATED_HOURS} simulated hours of edits and faults, without leaks`, async () => {
    const began = performance.now()
    const resourcesBefore = resourceCounts()
    const random = mulberry32(24)
    const clock = new SoakClock()
    clock.set(T0)
    const now = () => clock.now()
    const memory = createMemoryStorage({ now, record: false })
    const faulty = createFaultyStorage(memory, [], {
      // Slow calls wait on the simulated clock, never on real time.
      sleep: (ms, signal) =>
        new Promise<void>((resolve, reject) => {
          const id = clock.setTimeout(() => resolve(), ms)
          signal?.addEventListener('abort', () => {
            clock.clearTimeout(id)
            reject(signal.reason)
          })
        }),
    })
    const repository = createRepository({ storage: faulty, now, config })
    const session = createWorkspaceSession({ repository, config, clock, random })
    const { coordinator } = session
    const violations: string[] = []

    // Open every document (a first run: each opens empty), and start from sample data.
    const opened = await Promise.all(KEYS.map((key) => session.open(key)))
    expect(opened.map((result) => result.status)).toEqual(KEYS.map(() => 'ready'))
    const last = new Map<string, unknown>()
    for (const key of KEYS) {
      const data = key.startsWith('conversation/')
        ? { ...sampleConversation(key.slice('conversation/'.length)), nodeId: null }
        : key === 'project'
          ? sampleProject(5, 'Soak')
          : key === 'settings'
            ? sampleSettings('dark')
            : editCache(random, now())
      last.set(key, data)
      session.change(key, data as never)
    }

    let edits = 0
    let saves = 0
    let failures = 0
    let maxHolders = 0
    let faultWindows = 0
    let faultsInjected = 0
    const offSave = coordinator.on('save.succeeded', () => {
      saves++
    })
    const offFail = coordinator.on('save.failed', () => {
      failures++
    })
    const offStatus = coordinator.subscribe(() => {
      const { holders } = (coordinator.actor.getSnapshot() as SaveCoordinatorSnapshot).context
      maxHolders = Math.max(maxHolders, holders.length)
    })
    /** The instruments' own logs (every call, every disk step) are emptied as they go: they are not the library's. */
    const drainLogs = () => {
      const calls = faulty.calls as FaultyCall[]
      faultsInjected += calls.filter((call) => call.fault !== null).length
      calls.length = 0
      memory.clearLog()
    }

    const edit = (key: string) => {
      const before = last.get(key)
      const data = key.startsWith('conversation/')
        ? editConversation(before as Conversation, random, now())
        : key === 'project'
          ? editProject(before as ProjectData, random, now())
          : key === 'settings'
            ? editSettings(before as UserSettings, random)
            : editCache(random, now())
      last.set(key, data)
      session.change(key, data as never)
      edits++
    }

    let fault: { id: number; until: number } | null = null
    let nextFault = T0 + 20 * 60_000
    let heapStart = 0
    let diskStart = 0
    /** What the simulated disk holds (the heap holds it too): logs and the project grow as a user works. */
    const diskBytes = () => Object.values(memory.files()).reduce((n, bytes) => n + bytes.length, 0)
    let listenersStart = 0
    const end = T0 + SIMULATED_HOURS * HOUR
    while (now() < end) {
      if (heapStart === 0 && now() >= T0 + WARM_UP_HOURS * HOUR) {
        drainLogs()
        diskStart = diskBytes()
        heapStart = heapAfterGc()
        listenersStart = listenersOf(coordinator.actor)
      }
      // Faults: one standing rule at a time, on for seconds to minutes, then off for a while.
      if (fault !== null && now() >= fault.until) {
        faulty.removeRule(fault.id)
        fault = null
        nextFault = now() + (10 + random() * 50) * 60_000
      } else if (fault === null && now() >= nextFault) {
        const code = FAULT_CODES[Math.floor(random() * FAULT_CODES.length)]!
        const rule: FaultRule =
          random() < 0.25
            ? { delayMs: 500 + Math.floor(random() * 3000), op: ['writeAtomic', 'append'] }
            : {
                code,
                times: random() < 0.5 ? 1 + Math.floor(random() * 5) : Number.POSITIVE_INFINITY,
                ...(random() < 0.3 ? { op: ['writeAtomic', 'append'] as const } : {}),
                ...(random() < 0.2 ? { when: 'after' as const } : {}),
              }
        fault = { id: faulty.addRule(rule), until: now() + (5 + random() * 600) * 1000 }
        faultWindows++
      }
      // A burst of edits to one or a few documents, then a pause.
      const burst = 1 + Math.floor(random() * 2)
      for (let b = 0; b < burst; b++) {
        const key = KEYS[Math.floor(random() ** 1.5 * KEYS.length)]!
        const times = 1 + Math.floor(random() * 5)
        for (let i = 0; i < times; i++) {
          edit(key)
          await clock.advance(50 + Math.floor(random() * 400))
        }
      }
      await clock.advance(5_000 + Math.floor(random() * 55_000))
      // Now and then the user presses Retry on a failed save, as the toast offers.
      if (random() < 0.1) {
        for (const key of KEYS) if (coordinator.status(key).status === 'failed') session.retry(key)
      }
      if (faulty.calls.length > 10_000) drainLogs()
    }

    // Faults stop; the user retries what failed; time passes with no flush: autosave must get everything down.
    if (fault !== null) faulty.removeRule(fault.id)
    faulty.clear()
    drainLogs()
    for (const key of KEYS) if (coordinator.status(key).status === 'failed') session.retry(key)
    await clock.advance(10 * 60_000)
    const unsaved = KEYS.filter((key) => coordinator.status(key).status !== 'saved')
    if (unsaved.length > 0)
      violations.push(
        `still unsaved after the faults stopped: ${unsaved.map((k) => `${k} ${coordinator.status(k).status}`).join(', ')}`,
      )

    const heapEnd = heapAfterGc()
    const heapGrowth = heapEnd - heapStart
    if (heapGrowth > MAX_HEAP_GROWTH) violations.push(`heap grew by ${heapGrowth} bytes after GC`)
    const snapshot = coordinator.actor.getSnapshot() as SaveCoordinatorSnapshot
    if (snapshot.context.holders.length > 0 || snapshot.context.queue.length > 0)
      violations.push(
        `write slots left: ${snapshot.context.holders.length} held, ${snapshot.context.queue.length} queued`,
      )
    if (maxHolders > config.maxConcurrentWrites) violations.push(`${maxHolders} writes ran at once`)
    const children = Object.keys(snapshot.children ?? {}).length
    if (children !== KEYS.length) violations.push(`${children} child actors for ${KEYS.length} documents`)
    if (clock.pending.size > 0)
      violations.push(`${clock.pending.size} timers pending while everything is saved`)
    const listenersEnd = listenersOf(coordinator.actor)
    if (listenersEnd !== listenersStart)
      violations.push(`coordinator listeners went from ${listenersStart} to ${listenersEnd}`)

    // Every document's file holds its last edit (read by a fresh repository, as the next start would).
    const reader = createRepository({ storage: memory, now, config })
    for (const key of KEYS) {
      const loaded = await reader.load(key)
      if (!loaded.ok) violations.push(`${key} does not load: ${loaded.error.code}`)
      else if (!sameData(loaded.data, last.get(key))) violations.push(`${key} does not hold its last edit`)
    }
    const temps = await memory.listTempFiles()
    if (temps.length > 0) violations.push(`temp files left: ${temps.join(', ')}`)

    offSave()
    offFail()
    offStatus()
    const afterUnsubscribe = listenersOf(coordinator.actor)
    const outcomes = await session.close()
    if (outcomes.some((outcome) => outcome.result !== 'saved'))
      violations.push('close did not find everything saved')
    if (clock.pending.size > 0) violations.push(`${clock.pending.size} timers pending after close`)
    // Nothing ran on real time either: no host timer or handle is left (as bench B6 checks after closing).
    await new Promise((resolve) => setImmediate(resolve))
    const resourcesLeft = [...resourceCounts()].filter(([type, n]) => n > (resourcesBefore.get(type) ?? 0))
    if (resourcesLeft.length > 0)
      violations.push(`host resources left: ${resourcesLeft.map(([type, n]) => `${type} x${n}`).join(', ')}`)

    recordFigures('soak', {
      simulatedHours: SIMULATED_HOURS,
      documents: KEYS.length,
      edits,
      saves,
      failedSaves: failures,
      faultWindows,
      faultsInjected,
      heapGrowthBytes: heapGrowth,
      diskGrowthBytes: diskBytes() - diskStart,
      maxConcurrentWrites: maxHolders,
      violations: violations.length,
      seconds: Math.round((performance.now() - began) / 100) / 10,
    })
    expect(violations).toEqual([])
    // The soak did what it says: many edits and saves, faults that really hit calls and failed some saves.
    expect(edits).toBeGreaterThan(2000)
    expect(saves).toBeGreaterThan(1000)
    expect(faultsInjected).toBeGreaterThan(100)
    expect(failures).toBeGreaterThan(0)
    expect(afterUnsubscribe).toBeLessThan(listenersEnd)
  })
})
