import { toSaveflowError } from '../../src/core/errors'
import type { Repository } from '../../src/core/repository'
import type { Conversation, ProjectData } from '../../src/core/schemas'
import type { WorkspaceSession } from '../../src/core/workspace-session'
import { type BackupsAdapter, backupInfoFromRead } from '../../src/react/index'

/**
 * The React components' backup operations over the story's session and repository, as the workspace app adapts
 * them (examples/workspace/src/backups-adapter.ts): listing reads and verifies each backup, so the dialog shows
 * sizes and marks the damaged ones before the user picks one; previews and restores go through the session.
 */

/** The adapter, with the calls it received (a play function checks what the dialog asked for). */
export interface SessionBackups extends BackupsAdapter {
  readonly calls: readonly string[]
}

/** Backups of the session's documents; `repository` is the one under the session. */
export function createSessionBackups(session: WorkspaceSession, repository: Repository): SessionBackups {
  const calls: string[] = []
  return {
    calls,
    async list(key) {
      calls.push(`list ${key}`)
      const backups = await repository.listBackups(key)
      return Promise.all(
        backups.map(async (backup) => backupInfoFromRead(backup, await repository.readBackup(key, backup))),
      )
    },
    async preview(key, id) {
      calls.push(`preview ${key} ${id}`)
      const read = await session.readBackup(key, id)
      if (!read.ok) throw toSaveflowError(read.error)
      return { text: previewText(key, read.data) }
    },
    async restore(key, id) {
      calls.push(`restore ${key} ${id}`)
      const restored = await session.restoreBackup(key, id)
      return restored.undoId === null ? {} : { undoId: restored.undoId }
    },
  }
}

/** A readable excerpt of a document: what a user recognises their work by. */
export function previewText(key: string, data: unknown): string {
  if (key === 'project') {
    const project = data as ProjectData
    const titles = project.tree.map((node) => `• ${node.title || '(untitled)'}`)
    return [`${project.metadata.name}: ${project.tree.length} features`, ...titles].join('\n')
  }
  if (key.startsWith('conversation/')) {
    const conversation = data as Conversation
    const lines = conversation.messages.slice(-6).map((message) => `${message.role}: ${message.content}`)
    return [`${conversation.messages.length} messages`, ...lines].join('\n')
  }
  return JSON.stringify(data, null, 2)
}
