import {
  type Conversation,
  type ConversationRef,
  type Message,
  type ProjectData,
  type TreeNode,
  type UserSettings,
  userSettingsSchema,
} from './schemas'

/**
 * Deterministic sample workspaces: the same seed and sizes give byte-for-byte the same data on every machine, so the
 * CLI's `init --sample`, the benchmarks and the workspace app all work on one known data set. Randomness comes from a
 * seeded generator (mulberry32), never `Math.random`; time comes from `startAt`, never the clock. Browser-safe.
 *
 * Sizes on disk (snapshot files, seed 1): `small` about 30 KB, `large` about 20 MB.
 */

/** How much data a sample holds. */
export interface SampleSize {
  /** Feature tree nodes in the project. */
  nodes: number
  /** Conversation documents (each listed in the project too). */
  conversations: number
  /** Messages in each conversation. */
  messagesPerConversation: number
}

/** The named sizes: `empty` (a first run), `small` (tests, demos), `large` (benchmarks, the acceptance list). */
export const SAMPLE_SIZES = {
  empty: { nodes: 0, conversations: 0, messagesPerConversation: 0 },
  small: { nodes: 50, conversations: 2, messagesPerConversation: 20 },
  large: { nodes: 20_000, conversations: 200, messagesPerConversation: 200 },
} as const satisfies Record<string, SampleSize>

/** A name of {@link SAMPLE_SIZES}. */
export type SampleName = keyof typeof SAMPLE_SIZES

/** Options of {@link createSampleWorkspace}. Sizes left out come from the preset (or `empty`). */
export interface SampleOptions extends Partial<SampleSize> {
  /** Seed of the generator: equal seeds give equal data. @default 1 */
  seed?: number
  /** Time of the first timestamp in the data, ms since the epoch. @default Date.UTC(2026, 0, 1) */
  startAt?: number
}

/** A whole sample workspace, one value per document. Every part passes its document's schema. */
export interface SampleWorkspace {
  /** The `project` document. */
  project: ProjectData
  /** The `settings` document. */
  settings: UserSettings
  /** The `conversation/<id>` documents, in the order the project lists them. */
  conversations: Conversation[]
}

/** A seeded pseudo-random source. */
export interface SampleRandom {
  /** A float in [0, 1). */
  next(): number
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T
}

/**
 * A seeded generator (mulberry32: 32 bits of state, fast, good enough for test data; not for anything secret).
 * Exported so a benchmark can draw further edits from the same kind of source.
 */
export function createSampleRandom(seed: number): SampleRandom {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  }
}

const DEFAULT_START = Date.UTC(2026, 0, 1)
const MINUTE = 60_000
/** Deepest level of the generated tree: real feature trees are wide rather than deep. */
const MAX_DEPTH = 8

// Feature-tree vocabulary, with some Chinese (the original requirement's language) so the data exercises UTF-8.
const WORDS = [
  'save',
  'load',
  'backup',
  'restore',
  'project',
  'tree',
  'node',
  'feature',
  'settings',
  'theme',
  'editor',
  'search',
  'filter',
  'export',
  'import',
  'sync',
  'offline',
  'draft',
  'review',
  'comment',
  'history',
  'undo',
  'redo',
  'shortcut',
  'panel',
  'sidebar',
  'toolbar',
  'dialog',
  'status',
  'badge',
  'toast',
  'error',
  'retry',
  'network',
  'disk',
  'folder',
  'file',
  'cache',
  'index',
  'query',
  'result',
  'preview',
  'layout',
  'drag',
  'drop',
  'move',
  'rename',
  'delete',
  'archive',
  'tag',
  'label',
  'color',
  'icon',
  'template',
  'schema',
  'version',
  'migration',
  'user',
  'account',
  'login',
  'permission',
  'share',
  'link',
  'notify',
  'schedule',
  'task',
  'milestone',
  'estimate',
  'priority',
  'owner',
  'release',
  'build',
  'test',
  'deploy',
  'report',
  'chart',
  'table',
  'list',
  'card',
  'board',
  'column',
  'row',
  'cell',
  'value',
  'field',
  'form',
  'input',
  'button',
  'menu',
  'tab',
  'window',
  'keyboard',
  'mouse',
  'touch',
  'mobile',
  'desktop',
  'startup',
  'quit',
  'crash',
  'recover',
  'journal',
  'the',
  'a',
  'of',
  'to',
  'and',
  'with',
  'when',
  'after',
  'before',
  'should',
  'must',
  'can',
  'keeps',
  'shows',
  '保存',
  '加载',
  '备份',
  '恢复',
  '项目',
  '节点',
  '对话',
  '设置',
  '数据',
  '文件',
  '功能',
  '用户',
]

function words(random: SampleRandom, min: number, max: number): string {
  const count = random.int(min, max)
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(random.pick(WORDS))
  return out.join(' ')
}

function sentence(random: SampleRandom, min: number, max: number): string {
  const text = words(random, min, max)
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`
}

const iso = (ms: number): string => new Date(ms).toISOString()
const pad = (n: number, width: number): string => String(n).padStart(width, '0')

/** The tree: a few roots, every other node under an earlier one, at most {@link MAX_DEPTH} deep. */
function sampleTree(random: SampleRandom, count: number, startAt: number): TreeNode[] {
  const roots = Math.max(1, Math.round(count / 25))
  const depth = new Int32Array(count)
  const parentOf = new Int32Array(count)
  const childCount = new Map<string, number>()
  const nodes: TreeNode[] = []
  const width = Math.max(5, String(count).length)
  for (let i = 0; i < count; i++) {
    let parent = i < roots ? -1 : random.int(0, i - 1)
    while (parent >= 0 && depth[parent]! >= MAX_DEPTH - 1) parent = parentOf[parent]!
    parentOf[i] = parent
    const parentId = parent < 0 ? null : nodes[parent]!.id
    depth[i] = parent < 0 ? 0 : depth[parent]! + 1
    const siblingKey = parentId ?? ''
    const order = childCount.get(siblingKey) ?? 0
    childCount.set(siblingKey, order + 1)
    const createdAt = startAt + i * MINUTE
    nodes.push({
      id: `n-${pad(i, width)}`,
      parentId,
      order,
      title: sentence(random, 2, 6).slice(0, -1),
      description: sentence(random, 8, 40),
      createdAt: iso(createdAt),
      updatedAt: iso(createdAt + random.int(0, 3 * 24 * 60) * MINUTE),
    })
  }
  return nodes
}

/**
 * One message of a sample conversation: users write short questions, the assistant longer answers. Exported for
 * benchmarks that append messages to a conversation.
 */
export function createSampleMessage(
  random: SampleRandom,
  message: { id: string; role: Message['role']; createdAt: number },
): Message {
  const content =
    message.role === 'user'
      ? `${sentence(random, 4, 24).slice(0, -1)}?`
      : `${sentence(random, 16, 56)} ${sentence(random, 10, 40)}`
  return { id: message.id, role: message.role, content, createdAt: iso(message.createdAt) }
}

function sampleConversation(
  random: SampleRandom,
  index: number,
  messageCount: number,
  tree: readonly TreeNode[],
  startAt: number,
): Conversation {
  const id = `c-${pad(index, 4)}`
  const createdAt = startAt + index * 60 * MINUTE
  const messages: Message[] = []
  let at = createdAt
  for (let m = 0; m < messageCount; m++) {
    at += random.int(5, 300) * 1000
    const role = m % 2 === 0 ? 'user' : 'assistant'
    messages.push(createSampleMessage(random, { id: `${id}-m${pad(m, 4)}`, role, createdAt: at }))
  }
  return {
    id,
    title: sentence(random, 2, 6).slice(0, -1),
    nodeId: tree.length > 0 && random.next() < 0.8 ? random.pick(tree).id : null,
    messages,
    createdAt: iso(createdAt),
    updatedAt: iso(at),
  }
}

function conversationRef(conversation: Conversation): ConversationRef {
  return {
    id: conversation.id,
    title: conversation.title,
    nodeId: conversation.nodeId,
    createdAt: conversation.createdAt,
    updatedAt: conversation.updatedAt,
    messageCount: conversation.messages.length,
  }
}

/**
 * Builds a sample workspace. `createSampleWorkspace('small')`, `createSampleWorkspace('large', { seed: 7 })`, or
 * custom sizes: `createSampleWorkspace({ nodes: 1000, conversations: 5, messagesPerConversation: 50 })`.
 * Deterministic: equal arguments give deep-equal results.
 */
export function createSampleWorkspace(
  sample: SampleName | SampleOptions = 'small',
  options: SampleOptions = {},
): SampleWorkspace {
  const base: SampleSize = typeof sample === 'string' ? SAMPLE_SIZES[sample] : SAMPLE_SIZES.empty
  const given = { ...(typeof sample === 'string' ? {} : sample), ...options }
  const size: SampleSize = {
    nodes: given.nodes ?? base.nodes,
    conversations: given.conversations ?? base.conversations,
    messagesPerConversation: given.messagesPerConversation ?? base.messagesPerConversation,
  }
  for (const [name, value] of Object.entries(size)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be an integer >= 0.`)
  }
  const startAt = given.startAt ?? DEFAULT_START
  // Each part draws from its own stream, so growing one part (more messages) leaves the others unchanged.
  const seed = given.seed ?? 1
  const tree = sampleTree(createSampleRandom(seed), size.nodes, startAt)
  const chat = createSampleRandom(seed ^ 0x5bd1e995)
  const conversations: Conversation[] = []
  for (let c = 0; c < size.conversations; c++) {
    conversations.push(sampleConversation(chat, c, size.messagesPerConversation, tree, startAt))
  }
  const end = Math.max(startAt + size.nodes * MINUTE, ...conversations.map((c) => Date.parse(c.updatedAt)))
  const project: ProjectData = {
    metadata: {
      id: 'sample-project',
      name: 'Sample project',
      description: `A generated project: ${size.nodes} nodes, ${size.conversations} conversations (seed ${seed}).`,
      createdAt: iso(startAt),
      updatedAt: iso(end),
    },
    tree,
    conversations: conversations.map(conversationRef),
    settings: {
      language: 'en',
      defaultModel: null,
      systemPrompt: 'You help plan the features of this project.',
    },
    version: size.nodes + size.conversations,
    lastSaved: iso(end),
  }
  const settings = userSettingsSchema.parse({})
  return { project, settings, conversations }
}
