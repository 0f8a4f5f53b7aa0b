import { type CSSProperties, type ReactNode, useState, useSyncExternalStore } from 'react'
import type { PersistenceConfigInput } from '../../src/core/config'
import { SaveflowError } from '../../src/core/errors'
import { createSaveCoordinator, type SaveCoordinator, type ValidateFn } from '../../src/core/save-coordinator'
import type { DocumentKind } from '../../src/core/status'
import {
  type BackupsAdapter,
  SaveflowProvider,
  SaveStatusBadge,
  SaveToasts,
  type UiClock,
  uiClockFrom,
  useDocumentStatus,
} from '../../src/react/index'
import {
  createScriptedDisk,
  type DiskFault,
  type ScriptedDisk,
  type ScriptedDiskOptions,
} from './scripted-disk'
import { StoryClock, settle } from './story-clock'

/** A document of a scenario. */
export interface ScenarioDocument {
  key: string
  kind: DocumentKind
  /** What the story calls it. @default the key */
  label?: string
  /** Text it starts with (already on disk). @default '' */
  text?: string
  /** False while it has not been read yet (recovery stories): nothing is written until `markLoaded`. @default true */
  loaded?: boolean
}

/** Options of {@link createScenario}. */
export interface ScenarioOptions extends ScriptedDiskOptions {
  documents: readonly ScenarioDocument[]
  config?: PersistenceConfigInput
  /** Rejects a document whose text is empty (the validation story). @default accepts everything */
  rejectEmpty?: boolean
  /** Backups for the provider; built on the scenario's clock. */
  backups?: (clock: StoryClock) => BackupsAdapter
}

/**
 * Everything a story runs on: the real coordinator (`createSaveCoordinator`) on simulated time, writing to a
 * scripted disk. Play functions drive it with `advance` and read what the user sees from the canvas.
 */
export interface Scenario {
  clock: StoryClock
  uiClock: UiClock
  disk: ScriptedDisk
  coordinator: SaveCoordinator
  documents: readonly ScenarioDocument[]
  backups: BackupsAdapter | undefined
  /** Moves simulated time forward, firing every timer on the way. */
  advance(ms: number): Promise<void>
  /** Advances in `stepMs` steps until `done()` holds; throws after `limitMs` of simulated time. */
  advanceUntil(done: () => boolean, options?: { stepMs?: number; limitMs?: number }): Promise<void>
  /** An edit, as the editor field makes it. */
  edit(key: string, text: string): void
  label(key: string): string
  dispose(): void
}

/** Simulated time starts at a round, recognisable moment rather than at 0 (which reads like "never"). */
export const START = Date.UTC(2025, 0, 6, 9, 0, 0)

/** Rejects empty text, as a document schema with a required field would. */
const rejectEmptyText: ValidateFn = ({ data }) => {
  const text = (data as { text?: unknown } | null)?.text
  if (typeof text !== 'string' || text.trim() === '') {
    throw new SaveflowError('invalid-data', { details: { field: 'text', issue: 'must not be empty' } })
  }
  return data
}

/**
 * Builds a story's world: the clock, the scripted disk, and the real coordinator with every document registered
 * (loaded unless the document says otherwise).
 */
export function createScenario(options: ScenarioOptions): Scenario {
  const clock = new StoryClock(START)
  const disk = createScriptedDisk(clock, options)
  const coordinator = createSaveCoordinator({
    write: disk.write,
    clock,
    now: () => clock.now(),
    // No jitter: a story shows the same countdown every time it runs.
    random: () => 0.5,
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(options.rejectEmpty === true ? { validate: rejectEmptyText } : {}),
  })
  for (const doc of options.documents) {
    coordinator.register(doc.key, { kind: doc.kind, loaded: doc.loaded ?? true })
  }
  const labels = new Map(options.documents.map((doc) => [doc.key, doc.label ?? doc.key]))
  const scenario: Scenario = {
    clock,
    uiClock: uiClockFrom(clock, () => clock.now()),
    disk,
    coordinator,
    documents: options.documents,
    backups: options.backups?.(clock),
    advance: (ms) => clock.advance(ms),
    async advanceUntil(done, { stepMs = 100, limitMs = 120_000 } = {}) {
      const deadline = clock.now() + limitMs
      await settle()
      while (!done()) {
        if (clock.now() >= deadline) throw new Error(`the scenario did not get there within ${limitMs} ms`)
        await clock.advance(stepMs)
      }
    },
    edit: (key, text) => {
      coordinator.change(key, { text })
    },
    label: (key) => labels.get(key) ?? key,
    dispose() {
      clock.stop()
      coordinator.stop()
    },
  }
  return scenario
}

const frameStyle: CSSProperties = {
  display: 'flex',
  flexDirection: 'column',
  gap: '16px',
  font: '14px/1.5 system-ui, sans-serif',
  color: '#111827',
  maxWidth: '56rem',
}
const toolbarStyle: CSSProperties = {
  display: 'flex',
  alignItems: 'center',
  gap: '8px',
  flexWrap: 'wrap',
  padding: '8px 12px',
  background: '#f3f4f6',
  borderRadius: '8px',
}
/** A story's own action button (the frame is a flex column, which would stretch it). */
export const storyButton: CSSProperties = {
  alignSelf: 'flex-start',
  padding: '4px 12px',
  border: '1px solid #6b7280',
  borderRadius: '6px',
  background: '#fff',
  font: 'inherit',
  cursor: 'pointer',
}
const smallButton: CSSProperties = {
  padding: '2px 8px',
  border: '1px solid #9ca3af',
  borderRadius: '6px',
  background: '#fff',
  font: 'inherit',
  cursor: 'pointer',
}

function useClockTime(clock: StoryClock) {
  return useSyncExternalStore(
    (listener) => clock.subscribe(listener),
    () => `${clock.now()}:${clock.running}`,
  )
}

/** The simulated-time toolbar: people watching a story step or run the time; play functions call `advance`. */
function TimeBar({ scenario }: { scenario: Scenario }) {
  useClockTime(scenario.clock)
  const { clock } = scenario
  const elapsed = ((clock.now() - START) / 1000).toFixed(1)
  return (
    <div role="toolbar" aria-label="Simulated time" style={toolbarStyle}>
      <span>
        Simulated time: <output aria-label="Elapsed">{elapsed} s</output>
      </span>
      {[0.5, 1, 5, 30].map((seconds) => (
        <button
          key={seconds}
          type="button"
          style={smallButton}
          onClick={() => void clock.advance(seconds * 1000)}
        >
          +{seconds} s
        </button>
      ))}
      <button type="button" style={smallButton} onClick={() => (clock.running ? clock.stop() : clock.run())}>
        {clock.running ? 'Pause' : 'Run in real time'}
      </button>
    </div>
  )
}

/** Clears the disk's standing fault, as a person would (free space, fix permissions); disabled once cleared. */
export function ClearFaultButton({ scenario, children }: { scenario: Scenario; children: ReactNode }) {
  const { disk } = scenario
  useSyncExternalStore(
    (listener) => disk.subscribe(listener),
    () => disk.version,
  )
  return (
    <button
      type="button"
      style={storyButton}
      disabled={disk.stuck === null}
      onClick={() => disk.setStuck(null)}
    >
      {children}
    </button>
  )
}

/** A text field whose every keystroke is an edit of the document. */
export function EditorField({ scenario, docKey }: { scenario: Scenario; docKey: string }) {
  const initial = scenario.documents.find((doc) => doc.key === docKey)?.text ?? ''
  const [text, setText] = useState(initial)
  const status = useDocumentStatus(docKey)
  return (
    <label style={{ display: 'flex', flexDirection: 'column', gap: '4px', flex: 1 }}>
      <span style={{ fontWeight: 600 }}>{scenario.label(docKey)}</span>
      <textarea
        rows={3}
        value={text}
        readOnly={status?.status === 'readOnly'}
        onChange={(event) => {
          setText(event.target.value)
          scenario.edit(docKey, event.target.value)
        }}
        style={{ font: 'inherit', padding: '6px', borderRadius: '6px', border: '1px solid #d1d5db' }}
      />
    </label>
  )
}

/** A document's editor beside its badge, with the revisions under it. */
export function DocumentRow({ scenario, docKey }: { scenario: Scenario; docKey: string }) {
  const status = useDocumentStatus(docKey)
  return (
    <section
      aria-label={scenario.label(docKey)}
      style={{ display: 'flex', gap: '16px', alignItems: 'flex-start' }}
    >
      <EditorField scenario={scenario} docKey={docKey} />
      <div style={{ display: 'flex', flexDirection: 'column', gap: '4px', width: '24rem' }}>
        <SaveStatusBadge documentKey={docKey} />
        <small style={{ color: '#4b5563' }}>
          revision in memory {status?.pendingRevision ?? 0}, on disk {status?.savedRevision ?? 0}
        </small>
      </div>
    </section>
  )
}

const faultLabel: Readonly<Record<DiskFault, string>> = {
  EIO: 'I/O error',
  ENOSPC: 'disk full',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
  EBUSY: 'busy',
}

/** What the pretend disk did, write by write: the play functions check it, and so can people. */
export function DiskLog({ scenario, last = 8 }: { scenario: Scenario; last?: number }) {
  const { disk } = scenario
  useSyncExternalStore(
    (listener) => disk.subscribe(listener),
    () => disk.version,
  )
  const rows = disk.log.slice(-last)
  return (
    <section aria-label="Disk" style={{ fontSize: '12px', color: '#374151' }}>
      <strong>Disk</strong>
      {disk.stuck !== null && <span> (every write fails now: {faultLabel[disk.stuck]})</span>}
      {rows.length === 0 ? (
        <p style={{ margin: '4px 0' }}>No writes yet.</p>
      ) : (
        <ol
          aria-label="Writes"
          start={disk.log.length - rows.length + 1}
          style={{ margin: '4px 0', paddingLeft: '24px' }}
        >
          {rows.map((write) => (
            <li
              key={`${write.key}:${write.startedAt}:${write.revision}`}
              data-result={write.result ?? 'writing'}
            >
              {write.key} revision {write.revision} at {((write.startedAt - START) / 1000).toFixed(1)} s:{' '}
              {write.result === null
                ? 'writing…'
                : write.result === 'ok'
                  ? 'saved'
                  : write.result === 'aborted'
                    ? 'aborted'
                    : `failed, ${write.result} (${faultLabel[write.result]})`}
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}

/** Provider, toolbar, toasts and the workspace badge around a story's content. */
export function ScenarioFrame({
  scenario,
  children,
  onShowBackups,
}: {
  scenario: Scenario
  children?: ReactNode
  onShowBackups?: (key: string) => void
}) {
  return (
    <SaveflowProvider
      coordinator={scenario.coordinator}
      clock={scenario.uiClock}
      {...(scenario.backups === undefined ? {} : { backups: scenario.backups })}
    >
      <div style={frameStyle}>
        <TimeBar scenario={scenario} />
        <div style={{ display: 'flex', alignItems: 'center', gap: '8px' }}>
          <span style={{ fontWeight: 600 }}>Workspace</span>
          <SaveStatusBadge />
        </div>
        {children}
        <DiskLog scenario={scenario} />
      </div>
      <SaveToasts
        documentLabel={scenario.label}
        {...(onShowBackups === undefined ? {} : { onShowBackups })}
        toasterProps={{ position: 'bottom-right', expand: true }}
      />
    </SaveflowProvider>
  )
}
