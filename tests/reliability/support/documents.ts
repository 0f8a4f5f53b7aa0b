import type { Conversation, Message, ProjectData, UserSettings } from '../../../src/core/schemas'
import { sampleConversation, sampleProject, sampleSettings } from '../../core/support/documents'

/**
 * The documents every reliability part saves, derived from a number so a checker can tell exactly which save a
 * loaded file came from. Small on purpose: the crash explorer copies every state it visits.
 */

/** The keys every workload opens. */
export const KEYS = ['project', 'settings', 'conversation/c1'] as const
export type Key = (typeof KEYS)[number]

const T0 = '2026-01-15T10:00:00.000Z'

/** The project of save `n`. */
export const projectAt = (n: number): ProjectData => sampleProject(3, `revision ${n}`)

/** The settings of save `n` (the font size carries the number). */
export function settingsAt(n: number): UserSettings {
  const settings = sampleSettings(n % 2 === 0 ? 'dark' : 'light')
  return { ...settings, editor: { ...settings.editor, fontSize: 8 + (n % 60) } }
}

function message(i: number, text: string): Message {
  return { id: `m${i}`, role: i % 2 === 0 ? 'assistant' : 'user', content: text, createdAt: T0 }
}

/** The conversation after `appended` messages were added to the sample's two, the last one edited `edits` times. */
export function conversationAt(appended: number, edits = 0): Conversation {
  const base = sampleConversation('c1')
  const messages = [...base.messages]
  for (let i = 0; i < appended; i++) messages.push(message(3 + i, `message ${3 + i}`))
  if (edits > 0) {
    const last = messages.at(-1)!
    messages[messages.length - 1] = { ...last, content: `${last.content} (edit ${edits})` }
  }
  return { ...base, messages }
}

/** Deep equality of JSON data, key order ignored (a journal replay may rebuild objects in another order). */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const list = b as unknown[]
    return a.length === list.length && a.every((item, i) => sameData(item, list[i]))
  }
  const ka = Object.keys(a as object)
  const kb = Object.keys(b as object)
  if (ka.length !== kb.length) return false
  return ka.every(
    (key) =>
      Object.hasOwn(b as object, key) &&
      sameData((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  )
}
