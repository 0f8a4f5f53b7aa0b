import { useEffect, useState } from 'react'
import { SaveflowProvider, SaveToasts } from 'saveflow/react'
import { useStore } from 'zustand'
import { BackupsPanel } from './components/BackupsPanel'
import { ChatPanel } from './components/ChatPanel'
import { DevPanel } from './components/DevPanel'
import { FeatureTree } from './components/FeatureTree'
import { Header } from './components/Header'
import { LoadProblems } from './components/LoadProblems'
import { NodeEditor } from './components/NodeEditor'
import { RecoveryHost } from './components/RecoveryHost'
import { SettingsPanel } from './components/SettingsPanel'
import { type AppWorkspace, documentLabel } from './workspace'
import { useHydration, WorkspaceProvider } from './workspace-context'

/** The workspace app: feature tree, the selected feature and its chat, and the side panels. */
export function App({ workspace }: { workspace: AppWorkspace }) {
  const { session, stores, backups } = workspace
  const project = useHydration(stores.bindings.project)
  const theme = useStore(stores.settings, (state) => state.theme)
  const selected = useStore(stores.project, (state) => state.selectedNodeId)
  // A toast's "Show backups" opens the backups panel on that document.
  const [backupsRequest, setBackupsRequest] = useState<{ key: string; at: number } | null>(null)

  useEffect(() => {
    document.documentElement.dataset.theme = theme
  }, [theme])

  return (
    <WorkspaceProvider workspace={workspace}>
      <SaveflowProvider coordinator={session.coordinator} backups={backups}>
        <div className="app">
          <Header />
          <LoadProblems />
          {project === 'hydrated' ? (
            <main className="layout">
              <FeatureTree />
              <section className="work" aria-label="Selected feature">
                {selected === null ? (
                  <p className="empty">Select a feature on the left, or add one.</p>
                ) : (
                  <>
                    <NodeEditor key={`editor-${selected}`} nodeId={selected} />
                    <ChatPanel key={`chat-${selected}`} nodeId={selected} />
                  </>
                )}
              </section>
              <aside className="side" aria-label="Panels">
                <SettingsPanel />
                <BackupsPanel request={backupsRequest} />
                {workspace.faults !== null && <DevPanel faults={workspace.faults} />}
              </aside>
            </main>
          ) : (
            <p className="empty" role="status">
              {project === 'hydrating' ? 'Opening the workspace…' : 'The project is not open.'}
            </p>
          )}
          <SaveToasts
            documentLabel={(key) => documentLabel(stores, key)}
            onShowBackups={(key) => setBackupsRequest({ key, at: Date.now() })}
          />
          <RecoveryHost />
        </div>
      </SaveflowProvider>
    </WorkspaceProvider>
  )
}
