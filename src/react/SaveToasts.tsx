import { useEffect, useRef, useState } from 'react'
import { type ExternalToast, Toaster, type ToasterProps, toast } from 'sonner'
import type { SaveCoordinator } from '../core/save-coordinator'
import type { SaveFailedEvent, SaveRetryingEvent } from '../core/status'
import { useNow } from './hooks'
import { useSaveflow } from './SaveflowProvider'
import { secondsUntil, UI_TEXT } from './text'

/** Props of {@link SaveToasts}. */
export interface SaveToastsProps {
  /** Adds a "Show backups" action to a failure's toast; called with the document's key. @default no such action */
  onShowBackups?: (key: string) => void
  /** The name a user knows a document by ("Project", "Chat with Ada"). @default the key */
  documentLabel?: (key: string) => string
  /** Passed to sonner's `<Toaster>` (position, theme, ...). */
  toasterProps?: Omit<ToasterProps, 'id'>
}

let toasterCount = 0

/** Counts down to the next attempt inside a toast; the toast itself is not re-issued every second. */
function RetryDetail({ event, maxAttempts }: { event: SaveRetryingEvent; maxAttempts: number | null }) {
  const now = useNow(250)
  const attempt = UI_TEXT.toastAttempt(event.attempt + 1, maxAttempts)
  return (
    <>
      {UI_TEXT.toastRetryingDetail(
        event.error.message,
        event.error.hint,
        secondsUntil(event.retryAt, now),
        attempt,
      )}
    </>
  )
}

function maxAttemptsOf(coordinator: SaveCoordinator, event: SaveRetryingEvent): number | null {
  // A full disk is retried without limit: "attempt 7 of 5" would be a lie.
  if (event.error.retry === 'slow') return null
  return coordinator.keys().includes(event.key) ? coordinator.status(event.key).maxAttempts : null
}

/**
 * Toasts for save failures, from the coordinator's emitted events. A failure episode of one document (its retries,
 * its failure, its recovery) is one toast updated in place, not a toast per event. Render it once inside
 * {@link SaveflowProvider}; it renders its own sonner `<Toaster>`.
 */
export function SaveToasts({ onShowBackups, documentLabel, toasterProps }: SaveToastsProps) {
  const { coordinator } = useSaveflow()
  // A toaster id of our own: sonner's toast list is global to the page, so without it another <Toaster> in the app
  // (or the previous story) would show these toasts too.
  const [toasterId] = useState(() => `saveflow-toasts-${++toasterCount}`)
  // Handlers read the latest props without re-subscribing (re-subscribing would lose the open episodes).
  const props = useRef({ onShowBackups, documentLabel })
  props.current = { onShowBackups, documentLabel }

  useEffect(() => {
    /** Each document's open failure episode: its toast id and the failed attempts seen so far. */
    const open = new Map<string, { id: string; failures: number }>()
    const shown = new Set<string>()
    let episodes = 0
    const label = (key: string) => props.current.documentLabel?.(key) ?? key
    /** Every failed attempt is one `retrying` or one `failed` event: counting them here tells the recovery's story. */
    const failure = (key: string): ExternalToast => {
      let episode = open.get(key)
      if (episode === undefined) {
        episode = { id: `${toasterId}:${key}:${++episodes}`, failures: 0 }
        open.set(key, episode)
        shown.add(episode.id)
      }
      episode.failures += 1
      return { id: episode.id, toasterId, duration: Number.POSITIVE_INFINITY }
    }

    const onRetrying = (event: SaveRetryingEvent) => {
      toast.warning(UI_TEXT.toastRetrying(label(event.key)), {
        ...failure(event.key),
        description: <RetryDetail event={event} maxAttempts={maxAttemptsOf(coordinator, event)} />,
        // Updating in place keeps earlier fields: clear a previous failure's buttons.
        action: undefined,
        cancel: undefined,
      })
    }
    const onFailed = (event: SaveFailedEvent) => {
      const showBackups = props.current.onShowBackups
      toast.error(UI_TEXT.toastFailed(label(event.key)), {
        ...failure(event.key),
        description: UI_TEXT.toastFailedDetail(event.error.message, event.error.hint),
        action: {
          label: UI_TEXT.retry,
          onClick: (clickEvent) => {
            // Keep the toast: the retry's outcome updates it in place.
            clickEvent.preventDefault()
            coordinator.retry(event.key)
          },
        },
        cancel:
          showBackups === undefined
            ? undefined
            : { label: UI_TEXT.showBackups, onClick: () => showBackups(event.key) },
      })
    }
    const onSaved = (key: string) => {
      const episode = open.get(key)
      // A success without a failure before it is the normal case: no toast.
      if (episode === undefined) return
      open.delete(key)
      toast.success(UI_TEXT.toastRecovered(label(key)), {
        id: episode.id,
        toasterId,
        duration: 5000,
        description: UI_TEXT.toastRecoveredDetail(episode.failures),
        action: undefined,
        cancel: undefined,
      })
    }

    const unsubscribe = [
      coordinator.on('save.retrying', onRetrying),
      coordinator.on('save.failed', onFailed),
      // Whichever of `succeeded` and `recovered` arrives first closes the episode; the other finds it closed.
      coordinator.on('save.recovered', (event) => onSaved(event.key)),
      coordinator.on('save.succeeded', (event) => onSaved(event.key)),
    ]
    return () => {
      for (const off of unsubscribe) off()
      for (const id of shown) toast.dismiss(id)
    }
  }, [coordinator, toasterId])

  return <Toaster closeButton richColors position="bottom-right" {...toasterProps} id={toasterId} />
}
