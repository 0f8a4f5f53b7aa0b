import { useEffect, useState } from 'react'
import { SaveStatusBadge, useSaveStatus } from 'saveflow/react'
import { useStore } from 'zustand'
import { useWorkspace } from '../workspace-context'

/** The project's name, the workspace's save status and "Save now". */
export function Header() {
  const { session, stores, bootstrap } = useWorkspace()
  const name = useStore(stores.project, (state) => state.metadata.name)
  const status = useSaveStatus()
  // A draft, so that clearing the field to retype the name is possible: an empty name is not valid project data.
  const [draft, setDraft] = useState(name)
  useEffect(() => setDraft(name), [name])

  const rename = (value: string) => {
    setDraft(value)
    if (value.trim() !== '') stores.project.getState().updateMetadata({ name: value })
  }

  return (
    <header className="header">
      <div className="brand">
        <span className="logo" aria-hidden="true">
          ◆
        </span>
        <input
          className="project-name"
          aria-label="Project name"
          value={draft}
          maxLength={200}
          onChange={(event) => rename(event.target.value)}
          onBlur={() => setDraft(name)}
        />
      </div>
      <span className="folder" title={bootstrap.folder}>
        {bootstrap.folder}
      </span>
      <SaveStatusBadge className="app-badge" />
      <button
        type="button"
        onClick={() => void session.flushAll()}
        disabled={status.counts.unsaved + status.counts.failed + status.counts.retrying === 0}
        title="Save every unsaved change now (also when autosave is off)"
      >
        Save now
      </button>
    </header>
  )
}
