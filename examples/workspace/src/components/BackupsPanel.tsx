import { useEffect, useRef, useState } from 'react'
import type { BackupPreview } from 'saveflow/react'
import { useBackups } from 'saveflow/react'
import { useStore } from 'zustand'
import { documentLabel } from '../workspace'
import { useWorkspace } from '../workspace-context'

type Preview =
  | { status: 'none' }
  | { status: 'loading'; id: string }
  | { status: 'ready'; id: string; preview: BackupPreview }
  | { status: 'error'; id: string; message: string }

type Outcome =
  | { status: 'none' }
  | { status: 'working' }
  | { status: 'restored'; id: string; undoId: string | null }
  | { status: 'undone' }
  | { status: 'error'; message: string }

/**
 * The backups of one document: when each was taken, its revision and size, a preview, restore, and undo of a
 * restore (the version a restore replaces becomes a backup itself). "Back up now" takes one at once, whatever the
 * backup interval says.
 */
export function BackupsPanel({ request }: { request: { key: string; at: number } | null }) {
  const { stores } = useWorkspace()
  const conversations = useStore(stores.chat, (state) => state.conversations)
  const [key, setKey] = useState('project')
  const [open, setOpen] = useState(false)
  const panel = useRef<HTMLDetailsElement>(null)

  // "Show backups" on a failure toast: open the panel on that document.
  useEffect(() => {
    if (request === null) return
    setKey(request.key)
    setOpen(true)
    panel.current?.scrollIntoView({ block: 'nearest' })
  }, [request])

  return (
    <details
      ref={panel}
      className="panel backups"
      open={open}
      onToggle={(event) => setOpen(event.currentTarget.open)}
    >
      <summary>Backups</summary>
      <label className="field inline">
        <span>Document</span>
        <select value={key} onChange={(event) => setKey(event.target.value)}>
          <option value="project">Project</option>
          <option value="settings">Settings</option>
          {Object.values(conversations).map((conversation) => (
            <option key={conversation.id} value={`conversation/${conversation.id}`}>
              Chat: {conversation.title}
            </option>
          ))}
        </select>
      </label>
      {/* Mounted only while open: listing reads every backup through the server. Keyed: a new document starts clean. */}
      {open && <BackupsOf key={key} documentKey={key} />}
    </details>
  )
}

function BackupsOf({ documentKey: key }: { documentKey: string }) {
  const { client, stores } = useWorkspace()
  const backups = useBackups(key)
  const [preview, setPreview] = useState<Preview>({ status: 'none' })
  const [outcome, setOutcome] = useState<Outcome>({ status: 'none' })

  const showPreview = (id: string) => {
    setPreview({ status: 'loading', id })
    backups.preview(id).then(
      (result) => setPreview({ status: 'ready', id, preview: result }),
      (error: unknown) => setPreview({ status: 'error', id, message: messageOf(error) }),
    )
  }

  const restore = async (id: string) => {
    setOutcome({ status: 'working' })
    try {
      const result = await backups.restore(id)
      setOutcome({ status: 'restored', id, undoId: result?.undoId ?? null })
    } catch (error) {
      setOutcome({ status: 'error', message: messageOf(error) })
    }
  }

  const undo = async (undoId: string) => {
    setOutcome({ status: 'working' })
    try {
      await backups.restore(undoId)
      setOutcome({ status: 'undone' })
    } catch (error) {
      setOutcome({ status: 'error', message: messageOf(error) })
    }
  }

  const backUpNow = async () => {
    setOutcome({ status: 'working' })
    try {
      await client.backupNow(key)
      backups.reload()
      setOutcome({ status: 'none' })
    } catch (error) {
      setOutcome({ status: 'error', message: messageOf(error) })
    }
  }

  const busy = outcome.status === 'working'
  return (
    <>
      <button type="button" onClick={() => void backUpNow()} disabled={busy}>
        Back up now
      </button>
      {backups.status === 'loading' && <p className="note">Looking for backups…</p>}
      {backups.status === 'error' && <p className="problem">{messageOf(backups.error)}</p>}
      {backups.status === 'ready' && backups.backups.length === 0 && (
        <p className="note">No backups of {documentLabel(stores, key).toLowerCase()} yet.</p>
      )}
      <ul className="backup-list" aria-label="Backups">
        {backups.backups.map((backup) => (
          <li key={backup.id} className={backup.damaged === true ? 'damaged' : undefined}>
            <div>
              <time dateTime={new Date(backup.savedAt).toISOString()}>
                {new Date(backup.savedAt).toLocaleString()}
              </time>
              <span className="meta">
                revision {backup.revision} ·{' '}
                {backup.damaged === true
                  ? 'damaged'
                  : backup.bytes === null
                    ? 'size unknown'
                    : formatBytes(backup.bytes)}
              </span>
            </div>
            <div className="row">
              <button type="button" onClick={() => showPreview(backup.id)} disabled={backup.damaged === true}>
                Preview
              </button>
              <button
                type="button"
                onClick={() => void restore(backup.id)}
                disabled={busy || backup.damaged === true}
              >
                Restore
              </button>
            </div>
            {preview.status !== 'none' && preview.id === backup.id && (
              <pre className="preview">
                {preview.status === 'loading'
                  ? 'Loading…'
                  : preview.status === 'error'
                    ? preview.message
                    : preview.preview.text}
              </pre>
            )}
          </li>
        ))}
      </ul>
      <p role="status" className="note">
        {outcome.status === 'restored' && (
          <>
            Restored the backup.{' '}
            {outcome.undoId !== null && (
              <button type="button" onClick={() => void undo(outcome.undoId!)}>
                Undo
              </button>
            )}
          </>
        )}
        {outcome.status === 'undone' && 'The restore was undone.'}
        {outcome.status === 'error' && outcome.message}
      </p>
    </>
  )
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`
}
