import type { Conversation, ProjectData, UserSettings } from '../../../src/core/schemas'
import { userSettingsSchema } from '../../../src/core/schemas'
import { sampleConversation, sampleProject } from './documents'

/**
 * One document per layout, as a pure function of the revision, for crash and fault tests: whatever revision a load
 * returns, `at(revision)` is what was saved at it. Consecutive revisions differ the way an editor changes them
 * (an edit, an addition, a removal), so journaled saves append small batches of several kinds of record.
 */
export interface CrashDoc {
  key: string
  journaled: boolean
  at(revision: number): unknown
}

const T = '2026-01-15T10:00:00.000Z'

/** The project at a revision: a node retitled, one node added per revision, every third added one removed again. */
export function projectAt(revision: number): ProjectData {
  const base = sampleProject(6, `revision ${revision}`)
  const tree = base.tree.map((node, i) =>
    i === revision % base.tree.length ? { ...node, title: `title at ${revision}` } : node,
  )
  for (let i = 1; i <= revision; i++) {
    if (i % 3 === 0 && i < revision) continue
    tree.push({ ...base.tree[1]!, id: `x${i}`, parentId: 'n0', order: 10 + i, title: `added ${i}` })
  }
  return { ...base, tree, version: revision }
}

/** The conversation at a revision: one message per revision, the first one edited, the second one deleted later. */
export function conversationAt(revision: number): Conversation {
  const base = sampleConversation('c1')
  const messages = Array.from({ length: revision + 1 }, (_, i) => ({
    id: `m${i}`,
    role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
    content: i === 0 ? `edited at ${Math.floor(revision / 2)}` : `message ${i} é 你好`,
    createdAt: T,
  })).filter((message) => !(message.id === 'm1' && revision >= 4))
  return { ...base, title: `title ${Math.floor(revision / 3)}`, messages }
}

/** The settings at a revision. */
export function settingsAt(revision: number): UserSettings {
  return userSettingsSchema.parse({ language: 'en', editor: { fontSize: 8 + (revision % 60) } })
}

/** Every layout: a snapshot, the project's snapshot plus journal, a conversation log. */
export const CRASH_DOCS: [string, CrashDoc][] = [
  ['settings (snapshot)', { key: 'settings', journaled: false, at: settingsAt }],
  ['project (snapshot + journal)', { key: 'project', journaled: true, at: projectAt }],
  ['conversation (log)', { key: 'conversation/c1', journaled: true, at: conversationAt }],
]
