/**
 * The benchmark's data and edits, all deterministic: the sample workspaces of `src/core/sample-data.ts` and edits
 * drawn from a seeded generator. An edit is an immutable update that keeps the references of everything it did not
 * change, the way the reference zustand stores update (a journal diffs by reference; peers ignore it).
 */
import type { Conversation, ProjectData } from 'saveflow'
import {
  createSampleMessage,
  createSampleRandom,
  createSampleWorkspace,
  type SampleName,
  type SampleRandom,
  type SampleWorkspace,
} from '../src/core/sample-data'

/** What the peers persist: the whole workspace as one value, the way one store of a whole app is persisted. */
export interface PeerState {
  project: ProjectData
  settings: SampleWorkspace['settings']
  conversations: Conversation[]
}

/** A sample workspace and the one-value state the peers save for it. */
export interface Workload {
  name: SampleName
  sample: SampleWorkspace
  /** UTF-8 bytes of `JSON.stringify` of the whole workspace. */
  bytes: number
}

const utf8 = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8')

/** Builds a named workload (the large one takes about 0.4 s). */
export function createWorkload(name: SampleName): Workload {
  const sample = createSampleWorkspace(name)
  return { name, sample, bytes: utf8(peerStateOf(sample)) }
}

/** The peers' state of a workspace. */
export function peerStateOf(sample: SampleWorkspace): PeerState {
  return { project: sample.project, settings: sample.settings, conversations: sample.conversations }
}

/** One edit and what it changed, for "bytes written beyond the change itself". */
export interface Edit<T> {
  next: T
  /** UTF-8 bytes of the changed record as JSON (the node, the message). */
  changeBytes: number
}

const EDIT_START = Date.UTC(2026, 1, 1)

/** A source of edits on one workspace; every call changes something and returns the new value. */
export interface Editor {
  /** Renames one node (picked by the seeded generator) of `project`. */
  editNode(project: ProjectData, step: number): Edit<ProjectData>
  /** Appends one message to `conversation`. */
  appendMessage(conversation: Conversation, step: number): Edit<Conversation>
}

/** Creates an editor with its own seeded generator. */
export function createEditor(seed = 42): Editor {
  const random: SampleRandom = createSampleRandom(seed)
  return {
    editNode(project, step) {
      const index = random.int(0, project.tree.length - 1)
      const node = project.tree[index]!
      const at = new Date(EDIT_START + step * 1000).toISOString()
      const changed = { ...node, title: `${node.title.slice(0, 40)} (edit ${step})`, updatedAt: at }
      const tree = project.tree.slice()
      tree[index] = changed
      return { next: { ...project, tree, version: project.version + 1 }, changeBytes: utf8(changed) }
    },
    appendMessage(conversation, step) {
      const at = EDIT_START + step * 1000
      const message = createSampleMessage(random, {
        id: `${conversation.id}-b${String(step).padStart(6, '0')}`,
        role: step % 2 === 0 ? 'user' : 'assistant',
        createdAt: at,
      })
      const next: Conversation = {
        ...conversation,
        messages: [...conversation.messages, message],
        updatedAt: new Date(at).toISOString(),
      }
      return { next, changeBytes: utf8(message) }
    },
  }
}

/** The peers' state after a project edit: only the project changed. */
export function withProject(state: PeerState, project: ProjectData): PeerState {
  return { ...state, project }
}

/** The peers' state after a conversation changed. */
export function withConversation(state: PeerState, conversation: Conversation): PeerState {
  const conversations = state.conversations.map((c) => (c.id === conversation.id ? conversation : c))
  return { ...state, conversations }
}
