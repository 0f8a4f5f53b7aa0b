import { useEffect, useMemo, useRef, useState } from 'react'
import { useStore } from 'zustand'
import { childrenIndex, focusTitleOf, movesOf, takeTitleFocus } from '../tree'
import { useWorkspace } from '../workspace-context'

/** The selected feature: its title and description, and the buttons that add, move and delete. */
export function NodeEditor({ nodeId }: { nodeId: string }) {
  const { stores } = useWorkspace()
  const tree = useStore(stores.project, (state) => state.tree)
  const node = tree.find((candidate) => candidate.id === nodeId)
  const index = useMemo(() => childrenIndex(tree), [tree])
  const byId = useMemo(() => new Map(tree.map((candidate) => [candidate.id, candidate])), [tree])
  const [confirmDelete, setConfirmDelete] = useState(false)
  const [problem, setProblem] = useState<string | null>(null)
  const titleField = useRef<HTMLInputElement>(null)
  useEffect(() => {
    if (!takeTitleFocus(nodeId)) return
    titleField.current?.focus()
    titleField.current?.select()
  }, [nodeId])
  if (node === undefined) return null

  const actions = stores.project.getState()
  const moves = movesOf(node, index, byId)
  // Store actions validate with the document's schema and throw a SaveflowError: show it, keep the old value.
  const attempt = (change: () => void) => {
    try {
      change()
      setProblem(null)
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error))
    }
  }
  const move = (to: { parentId: string | null; index: number } | null) => {
    if (to !== null) attempt(() => actions.moveNode(node.id, to.parentId, to.index))
  }
  const addChild = () => {
    const id = actions.addNode(node.id, 'New feature')
    focusTitleOf(id)
    actions.selectNode(id)
  }
  const remove = () => {
    const parentId = node.parentId
    actions.deleteNode(node.id)
    setConfirmDelete(false)
    actions.selectNode(parentId)
  }

  return (
    <section className="editor" aria-label="Feature">
      <label className="field">
        <span>Title</span>
        <input
          ref={titleField}
          value={node.title}
          maxLength={1000}
          onChange={(event) => attempt(() => actions.renameNode(node.id, event.target.value))}
        />
      </label>
      <label className="field">
        <span>Description</span>
        <textarea
          rows={4}
          value={node.description}
          onChange={(event) => attempt(() => actions.setDescription(node.id, event.target.value))}
        />
      </label>
      {problem !== null && (
        <p className="problem" role="alert">
          {problem}
        </p>
      )}
      <div className="toolbar" role="toolbar" aria-label="Feature actions">
        <button type="button" onClick={addChild}>
          + Sub-feature
        </button>
        <button
          type="button"
          onClick={() => move(moves.up)}
          disabled={moves.up === null}
          aria-label="Move up"
        >
          ↑
        </button>
        <button
          type="button"
          onClick={() => move(moves.down)}
          disabled={moves.down === null}
          aria-label="Move down"
        >
          ↓
        </button>
        <button
          type="button"
          onClick={() => move(moves.outdent)}
          disabled={moves.outdent === null}
          aria-label="Move out of its parent"
        >
          ←
        </button>
        <button
          type="button"
          onClick={() => move(moves.indent)}
          disabled={moves.indent === null}
          aria-label="Move into the feature above"
        >
          →
        </button>
        <span className="spacer" />
        {confirmDelete ? (
          <>
            <button type="button" className="danger" onClick={remove}>
              {deleteLabel(countBelow(index, node.id))}
            </button>
            <button type="button" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirmDelete(true)}>
            Delete…
          </button>
        )}
      </div>
    </section>
  )
}

function countBelow(index: ReturnType<typeof childrenIndex>, id: string): number {
  let count = 0
  for (const stack = [id]; stack.length > 0; ) {
    for (const child of index.get(stack.pop()!) ?? []) {
      count++
      stack.push(child.id)
    }
  }
  return count
}

function deleteLabel(below: number): string {
  if (below === 0) return 'Delete'
  return below === 1 ? 'Delete with its sub-feature' : `Delete with its ${below} sub-features`
}
