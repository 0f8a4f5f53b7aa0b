import type { TreeNode } from 'saveflow'

/** The tree grouped by parent, each group in order: built once per tree change, read by every row. */
export type ChildrenIndex = ReadonlyMap<string | null, readonly TreeNode[]>

/** Groups `tree` by parent id, sorted by `order`. */
export function childrenIndex(tree: readonly TreeNode[]): ChildrenIndex {
  const groups = new Map<string | null, TreeNode[]>()
  for (const node of tree) {
    const group = groups.get(node.parentId)
    if (group === undefined) groups.set(node.parentId, [node])
    else group.push(node)
  }
  for (const group of groups.values()) group.sort((a, b) => a.order - b.order)
  return groups
}

/** Where a node can move with the arrow buttons; null where it cannot. */
export interface Moves {
  up: { parentId: string | null; index: number } | null
  down: { parentId: string | null; index: number } | null
  /** Out of its parent, just after it. */
  outdent: { parentId: string | null; index: number } | null
  /** Into the sibling above it, as its last child. */
  indent: { parentId: string; index: number } | null
}

/** The moves available to `node` (indexes count the new siblings without the node itself, as `moveNode` does). */
export function movesOf(node: TreeNode, index: ChildrenIndex, byId: ReadonlyMap<string, TreeNode>): Moves {
  const siblings = index.get(node.parentId) ?? []
  const at = siblings.findIndex((sibling) => sibling.id === node.id)
  const parent = node.parentId === null ? undefined : byId.get(node.parentId)
  const above = siblings[at - 1]
  return {
    up: at > 0 ? { parentId: node.parentId, index: at - 1 } : null,
    down: at < siblings.length - 1 ? { parentId: node.parentId, index: at + 1 } : null,
    outdent:
      parent === undefined
        ? null
        : {
            parentId: parent.parentId,
            index: (index.get(parent.parentId) ?? []).findIndex((sibling) => sibling.id === parent.id) + 1,
          },
    indent: above === undefined ? null : { parentId: above.id, index: (index.get(above.id) ?? []).length },
  }
}

/**
 * The node whose title field takes focus when the editor shows it: set by "add", so that a new feature's title can
 * be typed at once; any other selection leaves focus where the user put it.
 */
let pendingTitleFocus: string | null = null

/** Asks the editor to focus the title of `id` when it shows it. */
export function focusTitleOf(id: string): void {
  pendingTitleFocus = id
}

/** True once for the node that {@link focusTitleOf} named. */
export function takeTitleFocus(id: string): boolean {
  if (pendingTitleFocus !== id) return false
  pendingTitleFocus = null
  return true
}
