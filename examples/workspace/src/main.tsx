import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { readBootstrap } from './bootstrap'
import { installPageLifecycle, openAppWorkspace } from './workspace'
import './styles.css'

const root = createRoot(document.getElementById('root')!)
try {
  const workspace = openAppWorkspace(readBootstrap(document))
  installPageLifecycle(workspace.session)
  root.render(
    <StrictMode>
      <App workspace={workspace} />
    </StrictMode>,
  )
} catch (error) {
  root.render(<p className="fatal">{error instanceof Error ? error.message : String(error)}</p>)
}
