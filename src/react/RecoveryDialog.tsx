import { type CSSProperties, useEffect, useId, useRef, useState } from 'react'
import { useBackups, useNow } from './hooks'
import { badgeProblemStyle, buttonStyle, dialogStyle, primaryButtonStyle } from './styles'
import { formatAgo, formatBytes, RECOVERY_TEXT } from './text'
import type { BackupPreview, BackupsAdapter, RecoveryReport, RestoreResult } from './types'

/** Props of {@link RecoveryDialog}. */
export interface RecoveryDialogProps {
  /** What loading had to do; the dialog explains it and offers the backups. */
  report: RecoveryReport
  /** Backup operations; @default the `backups` of the nearest `SaveflowProvider` */
  backups?: BackupsAdapter
  /** Whether the dialog is shown. @default true */
  open?: boolean
  /**
   * Called when the user closes the dialog (Close, Keep, Escape). Never called while the report `needsUser` and
   * nothing was chosen yet: there is no document to go back to.
   */
  onClose?: () => void
  /** Called after a backup was restored. */
  onRestored?: (backupId: string, result: RestoreResult | undefined) => void
  /** Starts the document empty; offered only when the report `needsUser`. @default not offered */
  onStartEmpty?: () => void | Promise<void>
  /** The name a user knows the document by. @default the key */
  documentLabel?: (key: string) => string
}

type PreviewState =
  | { status: 'idle' }
  | { status: 'loading'; id: string }
  | { status: 'ready'; id: string; preview: BackupPreview }
  | { status: 'error'; id: string }

type Outcome =
  | { status: 'none' }
  | { status: 'restoring' }
  | { status: 'restored'; savedAt: number }
  | { status: 'failed' }

const listStyle: CSSProperties = {
  border: '1px solid var(--saveflow-dialog-border, #d1d5db)',
  borderRadius: '8px',
  padding: '8px 12px',
  margin: '12px 0',
  display: 'flex',
  flexDirection: 'column',
  gap: '4px',
}
const previewStyle: CSSProperties = {
  maxHeight: '10rem',
  overflow: 'auto',
  margin: 0,
  padding: '8px',
  background: 'var(--saveflow-dialog-code-bg, #f3f4f6)',
  borderRadius: '6px',
  font: '12px/1.4 ui-monospace, monospace',
  whiteSpace: 'pre-wrap',
}
const actionsStyle: CSSProperties = { display: 'flex', gap: '8px', flexWrap: 'wrap', marginTop: '16px' }

/**
 * Tells the user that a document was restored from a backup, or that nothing valid was left and they must choose:
 * lists the backups (time, size, revision), previews one, restores it (undoably), or starts empty. It never offers
 * anything that touches the quarantined file. A modal `<dialog>`: focus moves in, Escape closes it when closing
 * is allowed.
 */
export function RecoveryDialog({
  report,
  backups: adapter,
  open = true,
  onClose,
  onRestored,
  onStartEmpty,
  documentLabel,
}: RecoveryDialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const heading = useRef<HTMLHeadingElement>(null)
  const closeButton = useRef<HTMLButtonElement>(null)
  const titleId = useId()
  const descriptionId = useId()
  const now = useNow(30_000)
  const backups = useBackups(report.key, adapter)
  const [selected, setSelected] = useState<string | null>(null)
  const [preview, setPreview] = useState<PreviewState>({ status: 'idle' })
  const [outcome, setOutcome] = useState<Outcome>({ status: 'none' })
  const label = documentLabel?.(report.key) ?? report.key
  // With nothing valid loaded there is no document behind the dialog: the user must pick a way forward first.
  const closable = !report.needsUser || outcome.status === 'restored'

  // Read by the native close handler, which must not see a stale `open`.
  const openRef = useRef(open)
  openRef.current = open

  useEffect(() => {
    const dialog = ref.current
    if (dialog === null) return
    if (open && !dialog.open) {
      // showModal makes the rest of the page inert and puts focus inside, which a plain div cannot do reliably.
      dialog.showModal()
      // The title, not a control: the backups may still be loading, and a screen reader starts with what happened.
      heading.current?.focus()
    } else if (!open && dialog.open) {
      dialog.close()
    }
  }, [open])

  // The Restore button disappears once it did its work; focus must not fall out of the dialog with it.
  useEffect(() => {
    if (outcome.status === 'restored') closeButton.current?.focus()
  }, [outcome.status])

  const select = (id: string) => {
    setSelected(id)
    setPreview({ status: 'loading', id })
    backups.preview(id).then(
      (result) =>
        setPreview((p) =>
          p.status === 'loading' && p.id === id ? { status: 'ready', id, preview: result } : p,
        ),
      () => setPreview((p) => (p.status === 'loading' && p.id === id ? { status: 'error', id } : p)),
    )
  }

  const restore = async () => {
    const backup = backups.backups.find((b) => b.id === selected)
    if (backup === undefined) return
    setOutcome({ status: 'restoring' })
    try {
      const result = await backups.restore(backup.id)
      setOutcome({ status: 'restored', savedAt: backup.savedAt })
      onRestored?.(backup.id, result)
    } catch {
      setOutcome({ status: 'failed' })
    }
  }

  const close = () => {
    if (closable) onClose?.()
  }

  const usable = backups.backups.filter((b) => b.damaged !== true)

  return (
    <dialog
      ref={ref}
      aria-modal="true"
      aria-labelledby={titleId}
      aria-describedby={descriptionId}
      style={dialogStyle}
      // Escape: Chromium lets a page veto the first close request only, so the key itself is stopped too.
      onKeyDown={(event) => {
        if (event.key !== 'Escape') return
        event.preventDefault()
        close()
      }}
      onCancel={(event) => {
        event.preventDefault()
        close()
      }}
      // The dialog is controlled by `open`: should the browser close it anyway (it may ignore a second veto of
      // Escape), it comes back until the app itself closes it.
      onClose={() => {
        if (openRef.current) ref.current?.showModal()
      }}
    >
      <h2
        id={titleId}
        ref={heading}
        tabIndex={-1}
        style={{ margin: '0 0 8px', fontSize: '18px', outline: 'none' }}
      >
        {report.needsUser ? RECOVERY_TEXT.titleNeedsUser(label) : RECOVERY_TEXT.titleRestored(label)}
      </h2>
      <div id={descriptionId}>
        <p style={{ margin: '0 0 8px' }}>
          {report.restoredFrom !== undefined && !report.needsUser
            ? RECOVERY_TEXT.restoredFrom(
                formatAgo(now - report.restoredFrom.savedAt),
                report.restoredFrom.revision,
                report.replayedTo,
              )
            : RECOVERY_TEXT.needsUser}
        </p>
        <div style={badgeProblemStyle}>
          <span>{report.problem.message}</span>
          <span>{report.problem.hint}</span>
        </div>
        {report.quarantinedTo !== undefined && (
          <p style={{ margin: '8px 0 0' }}>
            {RECOVERY_TEXT.quarantined} <code>{report.quarantinedTo}</code>
          </p>
        )}
      </div>

      <fieldset style={listStyle}>
        <legend>{RECOVERY_TEXT.backupsLegend}</legend>
        {backups.status === 'loading' && <p style={{ margin: 0 }}>{RECOVERY_TEXT.backupsLoading}</p>}
        {backups.status === 'error' && <p style={{ margin: 0 }}>{RECOVERY_TEXT.backupsFailed}</p>}
        {(backups.status === 'ready' || backups.status === 'unavailable') && backups.backups.length === 0 && (
          <p style={{ margin: 0 }}>{RECOVERY_TEXT.backupsNone}</p>
        )}
        {backups.backups.map((backup) => {
          const damaged = backup.damaged === true
          return (
            <label key={backup.id} style={{ display: 'flex', gap: '8px', opacity: damaged ? 0.6 : 1 }}>
              <input
                type="radio"
                name={`${titleId}-backup`}
                value={backup.id}
                checked={selected === backup.id}
                disabled={damaged || outcome.status === 'restoring'}
                onChange={() => select(backup.id)}
              />
              <span>
                <time dateTime={new Date(backup.savedAt).toISOString()}>
                  {RECOVERY_TEXT.backupRow(
                    formatAgo(now - backup.savedAt),
                    backup.bytes === null ? RECOVERY_TEXT.sizeUnknown : formatBytes(backup.bytes),
                    backup.revision,
                  )}
                </time>
                {damaged && ` (${RECOVERY_TEXT.damaged})`}
              </span>
            </label>
          )
        })}
      </fieldset>

      {usable.length > 0 && (
        <section aria-label={RECOVERY_TEXT.previewLabel}>
          {preview.status === 'idle' && <p style={{ margin: 0 }}>{RECOVERY_TEXT.previewEmpty}</p>}
          {preview.status === 'loading' && <p style={{ margin: 0 }}>{RECOVERY_TEXT.previewLoading}</p>}
          {preview.status === 'error' && <p style={{ margin: 0 }}>{RECOVERY_TEXT.previewFailed}</p>}
          {preview.status === 'ready' && <pre style={previewStyle}>{preview.preview.text}</pre>}
        </section>
      )}

      <p role="status" style={{ margin: '12px 0 0' }}>
        {outcome.status === 'restored'
          ? RECOVERY_TEXT.restored(formatAgo(now - outcome.savedAt))
          : outcome.status === 'failed'
            ? RECOVERY_TEXT.restoreFailed
            : usable.length > 0
              ? RECOVERY_TEXT.undoNote
              : ''}
      </p>

      {report.needsUser && onStartEmpty !== undefined && outcome.status !== 'restored' && (
        <p id={`${titleId}-empty`} style={{ margin: '4px 0 0', fontSize: '12px' }}>
          {RECOVERY_TEXT.startEmptyNote}
        </p>
      )}

      <div style={actionsStyle}>
        {usable.length > 0 && outcome.status !== 'restored' && (
          <button
            type="button"
            style={primaryButtonStyle}
            disabled={selected === null || outcome.status === 'restoring'}
            onClick={restore}
          >
            {outcome.status === 'restoring' ? RECOVERY_TEXT.restoring : RECOVERY_TEXT.restore}
          </button>
        )}
        {report.needsUser && onStartEmpty !== undefined && outcome.status !== 'restored' && (
          <button
            type="button"
            style={buttonStyle}
            aria-describedby={`${titleId}-empty`}
            disabled={outcome.status === 'restoring'}
            onClick={() => void onStartEmpty()}
          >
            {RECOVERY_TEXT.startEmpty}
          </button>
        )}
        {closable && (
          <button type="button" ref={closeButton} style={buttonStyle} onClick={close}>
            {outcome.status === 'none' && report.restoredFrom !== undefined
              ? RECOVERY_TEXT.keep
              : RECOVERY_TEXT.close}
          </button>
        )}
      </div>
    </dialog>
  )
}
