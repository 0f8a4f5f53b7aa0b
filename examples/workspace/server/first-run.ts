import { CONVERSATIONS_DIR, conversationKey, QUARANTINE_DIR } from 'saveflow'
import type { Workspace } from 'saveflow/node'
// Not exported from an entry point yet: the CLI's `init --sample` and the benchmarks use the same generator.
import { createSampleWorkspace } from '../../../src/core/sample-data'

/**
 * The first run: a folder without a project gets a small sample project, so a new user sees a tree, a chat and
 * backups to play with instead of a blank page. Written through the workspace's own session, so the files are
 * exactly what the app writes.
 */

/** Sizes of the sample: enough to scroll a little, small enough to read. */
const SAMPLE = { nodes: 12, conversations: 2, messagesPerConversation: 4 } as const

/**
 * True when nothing in the folder was ever a user's: no chat, nothing kept in quarantine. A project that opens empty
 * is not enough: it also does after `saveflow repair --quarantine-unrecoverable` moved a damaged one away (the user
 * chose to start it empty), and the sample's chats would then be saved over chats of the same ids.
 */
async function holdsNothingYet(workspace: Workspace): Promise<boolean> {
  for (const dir of [CONVERSATIONS_DIR, QUARANTINE_DIR]) {
    if ((await workspace.storage.list(dir)).length > 0) return false
  }
  return true
}

/**
 * Writes the sample when the project opened empty from a folder that never had one (no file, no backups, nothing
 * recovered, no chats, nothing in quarantine) and the workspace is ours to write. Returns whether it did.
 */
export async function seedSampleIfNew(workspace: Workspace): Promise<boolean> {
  const { project } = workspace
  if (workspace.readOnly !== null) return false
  if (project.status !== 'ready' || project.source !== 'empty' || project.recovery !== null) return false
  if (!(await holdsNothingYet(workspace))) return false
  const sample = createSampleWorkspace(SAMPLE)
  // Conversations first: the project's index must never name a file that does not exist yet.
  for (const conversation of sample.conversations) {
    const opened = await workspace.openConversation(conversation.id)
    if (opened.status !== 'ready') return false
    workspace.session.change(conversationKey(conversation.id), conversation)
  }
  await workspace.session.flushAll({ deadlineMs: 10_000 })
  workspace.session.change('project', sample.project)
  const outcomes = await workspace.session.flushAll({ deadlineMs: 10_000 })
  return outcomes.every((outcome) => outcome.result === 'saved')
}
