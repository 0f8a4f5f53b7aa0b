import { useMemo } from 'react'
import { useStore } from 'zustand'
import { type ChildrenIndex, childrenIndex, focusTitleOf } from '../tree'
import { useWorkspace } from '../workspace-context'

/** The feature tree: every node, nested; selecting one opens it beside the tree. */
export function FeatureTree() {
  const { stores } = useWorkspace()
  const tree = useStore(stores.project, (state) => state.tree)
  const selected = useStore(stores.project, (state) => state.selectedNodeId)
  const index = useMemo(() => childrenIndex(tree), [tree])

  const add = () => {
    const actions = stores.project.getState()
    const id = actions.addNode(null, 'New feature')
    focusTitleOf(id)
    actions.selectNode(id)
  }

  return (
    <nav className="tree" aria-label="Features">
      <div className="panel-head">
        <h2>Features</h2>
        <button type="button" onClick={add}>
          + Feature
        </button>
      </div>
      {tree.length === 0 ? (
        <p className="empty">No features yet.</p>
      ) : (
        <Branch parentId={null} index={index} selected={selected} />
      )}
    </nav>
  )
}

// Nested lists of buttons rather than an ARIA tree: a `tree` role promises arrow-key navigation, which this demo
// does not implement; Tab and Enter work on buttons as they are.
function Branch(props: { parentId: string | null; index: ChildrenIndex; selected: string | null }) {
  const { stores } = useWorkspace()
  const nodes = props.index.get(props.parentId) ?? []
  return (
    <ul>
      {nodes.map((node) => (
        <li key={node.id}>
          <button
            type="button"
            className="tree-row"
            aria-current={node.id === props.selected ? 'true' : undefined}
            onClick={() => stores.project.getState().selectNode(node.id)}
          >
            {node.title.trim() === '' ? <em>Untitled</em> : node.title}
          </button>
          {(props.index.get(node.id)?.length ?? 0) > 0 && (
            <Branch parentId={node.id} index={props.index} selected={props.selected} />
          )}
        </li>
      ))}
    </ul>
  )
}
