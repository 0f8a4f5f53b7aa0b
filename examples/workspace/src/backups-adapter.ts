import {
  type Conversation,
  type ProjectData,
  type RpcClient,
  toSaveflowError,
  type WorkspaceSession,
} from 'saveflow'
import { type BackupsAdapter, backupInfoFromRead } from 'saveflow/react'

/**
 * The React components' backup operations over the page's session and rpc client. Listing also reads each backup
 * (through the server, which verifies its checksum): the list then shows sizes, and marks the damaged ones that
 * cannot be restored, before the user picks one.
 */
export function createBackupsAdapter(client: RpcClient, session: WorkspaceSession): BackupsAdapter {
  return {
    async list(key) {
      const backups = await client.listBackups(key)
      return Promise.all(
        backups.map(async (backup) => backupInfoFromRead(backup, await client.readBackup(key, backup.name))),
      )
    },
    async restore(key, id) {
      const restored = await session.restoreBackup(key, id)
      return restored.undoId === null ? {} : { undoId: restored.undoId }
    },
    async preview(key, id) {
      const read = await session.readBackup(key, id)
      if (!read.ok) throw toSaveflowError(read.error)
      return { text: previewText(key, read.data) }
    },
  }
}

/** A readable excerpt of a document: what a user recognises their work by. */
export function previewText(key: string, data: unknown): string {
  if (key === 'project') {
    const project = data as ProjectData
    const titles = project.tree.slice(0, 12).map((node) => `• ${node.title || '(untitled)'}`)
    const more =
      project.tree.length > titles.length ? [`… and ${project.tree.length - titles.length} more`] : []
    return [`${project.metadata.name}: ${project.tree.length} features`, ...titles, ...more].join('\n')
  }
  if (key.startsWith('conversation/')) {
    const conversation = data as Conversation
    const lines = conversation.messages.slice(-6).map((message) => `${message.role}: ${message.content}`)
    return [`${conversation.title}: ${conversation.messages.length} messages`, ...lines].join('\n')
  }
  return JSON.stringify(data, null, 2)
}
