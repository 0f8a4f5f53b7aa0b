import { useState } from 'react'
import type { UserSettings } from 'saveflow'
import { useStore } from 'zustand'
import { useWorkspace } from '../workspace-context'

/**
 * The user's settings, saved in the `settings` document. The theme applies at once. The saving settings are read
 * where they act: autosave and debounce by the page's save machines, which are created with them when the page
 * loads, and the backup count by the server's repository, which adopts it as soon as the settings file is saved.
 * So "Apply" saves the settings, waits until they are on disk, and reopens the page on them.
 */
export function SettingsPanel() {
  const { session, stores } = useWorkspace()
  const theme = useStore(stores.settings, (state) => state.theme)
  const persistence = useStore(stores.settings, (state) => state.persistence)
  const [draft, setDraft] = useState(() => saving(persistence))
  const [state, setState] = useState<{ status: 'idle' | 'applying' } | { status: 'error'; message: string }>({
    status: 'idle',
  })
  const current = saving(persistence)
  const changed =
    draft.autoSave !== current.autoSave ||
    draft.saveDebounce !== current.saveDebounce ||
    draft.backupCount !== current.backupCount

  const apply = async () => {
    setState({ status: 'applying' })
    try {
      stores.settings.getState().setPersistence(draft)
      const outcome = await session.flush('settings')
      if (outcome.result !== 'saved') {
        setState({
          status: 'error',
          message: outcome.error?.message ?? 'The settings could not be saved yet.',
        })
        return
      }
      // Everything else must be on disk too before the page reopens.
      const others = await session.flushAll()
      if (others.some((other) => other.result !== 'saved')) {
        setState({ status: 'error', message: 'Saved the settings; reopen once everything is saved.' })
        return
      }
      window.location.reload()
    } catch (error) {
      setState({ status: 'error', message: error instanceof Error ? error.message : String(error) })
    }
  }

  return (
    <details className="panel" open>
      <summary>Settings</summary>
      <label className="field inline">
        <span>Theme</span>
        <select
          value={theme}
          onChange={(event) =>
            stores.settings.getState().setTheme(event.target.value as UserSettings['theme'])
          }
        >
          <option value="system">System</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </label>
      <fieldset className="saving">
        <legend>Saving</legend>
        <label className="field inline">
          <input
            type="checkbox"
            checked={draft.autoSave}
            onChange={(event) => setDraft({ ...draft, autoSave: event.target.checked })}
          />
          <span>Autosave</span>
        </label>
        <label className="field inline">
          <span>Debounce (ms)</span>
          <input
            type="number"
            min={0}
            max={10_000}
            step={50}
            value={draft.saveDebounce}
            onChange={(event) =>
              setDraft({ ...draft, saveDebounce: clampInt(event.target.value, 0, 10_000) })
            }
          />
        </label>
        <label className="field inline">
          <span>Backups kept</span>
          <input
            type="number"
            min={0}
            max={100}
            value={draft.backupCount}
            onChange={(event) => setDraft({ ...draft, backupCount: clampInt(event.target.value, 0, 100) })}
          />
        </label>
        <div className="row">
          <button
            type="button"
            disabled={!changed || state.status === 'applying'}
            onClick={() => void apply()}
          >
            {state.status === 'applying' ? 'Applying…' : 'Apply'}
          </button>
          {changed && <span className="note">Saves, then reopens the workspace with these settings.</span>}
        </div>
        {state.status === 'error' && (
          <p className="problem" role="alert">
            {state.message}
          </p>
        )}
        {!current.autoSave && (
          <p className="note">
            Autosave is off: use "Save now" (changes are still saved when the tab closes).
          </p>
        )}
      </fieldset>
    </details>
  )
}

function saving(persistence: UserSettings['persistence']) {
  return {
    autoSave: persistence.autoSave,
    saveDebounce: persistence.saveDebounce,
    backupCount: persistence.backupCount,
  }
}

function clampInt(text: string, min: number, max: number): number {
  const value = Math.round(Number(text))
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min
}
