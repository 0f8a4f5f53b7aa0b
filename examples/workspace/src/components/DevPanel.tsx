import { useEffect, useState } from 'react'
import type { FaultAction, FaultState, FaultsApi } from '../faults-api'
import { useWorkspace } from '../workspace-context'

const BUTTONS: ReadonlyArray<{ action: FaultAction; label: string; title: string }> = [
  { action: 'disk-full', label: 'Disk full', title: 'Every write fails with ENOSPC until cleared' },
  {
    action: 'permission-denied',
    label: 'Permission denied',
    title: 'Every write fails with EACCES until cleared',
  },
  { action: 'slow', label: 'Slow disk', title: 'Every write takes 2.5 s' },
  { action: 'flaky', label: 'Flaky disk', title: 'The next two writes fail with EIO, then writes work' },
  { action: 'clear', label: 'Clear faults', title: 'Writes work again' },
]

/**
 * Developer panel: switches faults on the server's storage while the app runs, to watch the badge, the toasts and
 * the recovery dialog react. Collapsed by default; the server offers it unless started with SAVEFLOW_FAULTS=off.
 */
export function DevPanel({ faults }: { faults: FaultsApi }) {
  const { session } = useWorkspace()
  const [state, setState] = useState<FaultState>({ faults: [], message: '' })
  const [busy, setBusy] = useState(false)

  const run = async (action: FaultAction) => {
    setBusy(true)
    try {
      setState(await faults.apply(action))
    } catch (error) {
      setState((s) => ({ ...s, message: error instanceof Error ? error.message : String(error) }))
    } finally {
      setBusy(false)
    }
  }

  useEffect(() => {
    faults.apply('state').then(setState, () => {})
  }, [faults])

  // Everything the page holds is saved first, so the reload loses nothing and the recovery has a backup to use.
  const corrupt = async (action: 'corrupt-project' | 'corrupt-settings') => {
    setBusy(true)
    try {
      const outcomes = await session.flushAll()
      if (outcomes.some((outcome) => outcome.result !== 'saved')) {
        setState((s) => ({ ...s, message: 'Clear the faults and let everything save first.' }))
        return
      }
      setState(await faults.apply(action))
      window.location.reload()
    } catch (error) {
      setState((s) => ({ ...s, message: error instanceof Error ? error.message : String(error) }))
    } finally {
      setBusy(false)
    }
  }

  return (
    <details className="panel dev">
      <summary>Developer: inject faults</summary>
      <p className="note">Faults apply to the server's disk writes. Watch the status badge and the toasts.</p>
      <div className="buttons">
        {BUTTONS.map((button) => (
          <button
            key={button.action}
            type="button"
            title={button.title}
            disabled={busy}
            onClick={() => void run(button.action)}
          >
            {button.label}
          </button>
        ))}
      </div>
      <div className="buttons">
        <button type="button" disabled={busy} onClick={() => void corrupt('corrupt-project')}>
          Corrupt project.json and reload
        </button>
        <button type="button" disabled={busy} onClick={() => void corrupt('corrupt-settings')}>
          Corrupt settings.json and reload
        </button>
      </div>
      <ul className="faults" aria-label="Active faults">
        {state.faults.length === 0 ? (
          <li className="note">No faults: the disk behaves.</li>
        ) : (
          state.faults.map((fault) => (
            <li key={fault.id}>
              {fault.label}
              {fault.used > 0 ? ` (hit ${fault.used}×)` : ''}
            </li>
          ))
        )}
      </ul>
      <p role="status" className="note">
        {state.message}
      </p>
    </details>
  )
}
