import type { Repository } from '../../../src/core/repository'
import type { Conversation, ProjectData, UserSettings } from '../../../src/core/schemas'
import { userSettingsSchema } from '../../../src/core/schemas'

/** Sample documents and the recovery sequence the load machine runs, for repository tests. */

const T0 = '2026-01-15T10:00:00.000Z'

/** A valid project with `nodes` tree nodes (a root and children of it) and one conversation reference. */
export function sampleProject(nodes = 3, name = 'Demo'): ProjectData {
  const tree = Array.from({ length: nodes }, (_, i) => ({
    id: `n${i}`,
    parentId: i === 0 ? null : `n${Math.floor((i - 1) / 2)}`,
    order: i,
    title: `Feature ${i} é 😀`,
    description: `Description of feature ${i}`,
    createdAt: T0,
    updatedAt: T0,
  }))
  return {
    metadata: { id: 'p1', name, description: 'A sample project', createdAt: T0, updatedAt: T0 },
    tree,
    conversations: [
      { id: 'c1', title: 'Kick-off', nodeId: 'n0', createdAt: T0, updatedAt: T0, messageCount: 2 },
    ],
    settings: { language: 'en', defaultModel: null, systemPrompt: 'Be brief.' },
    version: 1,
    lastSaved: T0,
  }
}

/** A valid conversation with two messages. */
export function sampleConversation(id = 'c1'): Conversation {
  return {
    id,
    title: 'Kick-off',
    nodeId: 'n0',
    messages: [
      { id: 'm1', role: 'user', content: 'Hello', createdAt: T0 },
      { id: 'm2', role: 'assistant', content: 'Hi! 你好', createdAt: T0 },
    ],
    createdAt: T0,
    updatedAt: T0,
  }
}

/** Complete settings (every default filled in) with a chosen theme. */
export function sampleSettings(theme: 'light' | 'dark' | 'system' = 'dark'): UserSettings {
  return userSettingsSchema.parse({ theme })
}

/** How {@link recoverDocument} ended. */
export type Recovery =
  | { outcome: 'loaded'; data: unknown; revision: number }
  | { outcome: 'restored'; data: unknown; revision: number; from: string; quarantined: string[] }
  | { outcome: 'needs-user'; code: string; quarantined: string[] }
  | { outcome: 'failed'; code: string; quarantined: string[] }

/**
 * The recovery sequence of DESIGN.md "Loading and recovery", from the repository's building blocks: load the
 * primary; if it is damaged, try the backups newest first (quarantining each bad one) and restore the first good
 * one (the restore keeps the damaged primary in quarantine); if none is good, move the primary to quarantine. Only
 * `corrupt` and `invalid-data` are recovered from; other errors end here.
 */
export async function recoverDocument(repo: Repository, key: string): Promise<Recovery> {
  const quarantined: string[] = []
  const primary = await repo.load(key)
  if (primary.ok) return { outcome: 'loaded', data: primary.data, revision: primary.revision }
  const code = primary.error.code
  if (code !== 'corrupt' && code !== 'invalid-data') return { outcome: 'failed', code, quarantined }
  for (const backup of await repo.listBackups(key)) {
    const candidate = await repo.readBackup(key, backup)
    if (candidate.ok) {
      const before = new Set(await repo.listQuarantine())
      const restored = await repo.restoreBackup(key, backup)
      quarantined.push(...(await repo.listQuarantine()).filter((path) => !before.has(path)))
      return {
        outcome: 'restored',
        data: restored.data,
        revision: restored.revision,
        from: backup.name,
        quarantined,
      }
    }
    quarantined.push((await repo.quarantineBackup(key, backup, candidate.error.code)).to)
  }
  quarantined.push((await repo.quarantine(key, String(primary.error.details?.reason ?? code))).to)
  return { outcome: 'needs-user', code, quarantined }
}
