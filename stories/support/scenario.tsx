import {
  type CSSProperties,
  createContext,
  type ReactNode,
  useContext,
  useEffect,
  useState,
  useSyncExternalStore,
} from 'react'
import type { PersistenceConfigInput } from '../../src/core/config'
import type { SaveflowErrorData } from '../../src/core/errors'
import { createRepository, type Repository } from '../../src/core/repository'
import type { SaveCoordinator } from '../../src/core/save-coordinator'
import type { ProjectData } from '../../src/core/schemas'
import {
  createWorkspaceSession,
  type OpenResult,
  type WorkspaceSession,
} from '../../src/core/workspace-session'
import {
  SaveflowProvider,
  SaveStatusBadge,
  SaveToasts,
  type UiClock,
  uiClockFrom,
  useDocumentStatus,
} from '../../src/react/index'
import {
  createFaultyStorage,
  createMemoryStorage,
  type FaultCode,
  type FaultRule,
  type FaultyStorage,
  type MemoryStorage,
} from '../../src/testing/index'
import { createSaveLog, type SaveLog } from './save-log'
import { createSessionBackups, type SessionBackups } from './session-backups'
import { StoryClock, settle } from './story-clock'
import { START, savedProjectFiles } from './workspace-files'

export { START }

/** A document a scenario opens. */
export interface ScenarioDocument {
  key: string
  /** What the story calls it. @default the key */
  label?: string
}

/** Options of {@link createScenario}. */
export interface ScenarioOptions {
  documents: readonly ScenarioDocument[]
  config?: PersistenceConfigInput
  /** What earlier runs left on disk. @default the project "Garden plan", saved an hour before the story starts */
  files?: () => Promise<Readonly<Record<string, Uint8Array>>>
  /**
   * Standing faults of the disk, as `createFaultyStorage` rules (`{ code: 'ENOSPC' }`). A rule without `delayMs`
   * takes `latencyMs`, since a failing disk is no faster than a working one.
   */
  faults?: readonly FaultRule[]
  /** How long each write or append of a document file takes, in simulated ms. @default 200 */
  latencyMs?: number
  /** Why the workspace is read-only (another process holds its lock), if it is. @default writable */
  readOnly?: SaveflowErrorData
}

/**
 * Everything a story runs on, all of it real: a memory disk (`createMemoryStorage`) behind the faulty wrapper
 * (`createFaultyStorage`), the repository on it, and a workspace session (its save coordinator and the load
 * machine), on simulated time. Play functions drive it with `advance` and read what the user sees from the canvas.
 */
export interface Scenario {
  clock: StoryClock
  uiClock: UiClock
  /** The disk itself: what is on it (`files()`). */
  memory: MemoryStorage
  /** The disk as the repository sees it: faults and latency are its rules. */
  disk: FaultyStorage
  repository: Repository
  session: WorkspaceSession
  coordinator: SaveCoordinator
  /** Every save the coordinator made. */
  saves: SaveLog
  /** The backups of the session, for the provider and the recovery dialog. */
  backups: SessionBackups
  documents: readonly ScenarioDocument[]
  /** What opening each document gave (the recovery stories show its report). */
  opened: ReadonlyMap<string, OpenResult>
  /** Moves simulated time forward, firing every timer on the way. */
  advance(ms: number): Promise<void>
  /** Advances in `stepMs` steps until `done()` holds; throws after `limitMs` of simulated time. */
  advanceUntil(done: () => boolean, options?: { stepMs?: number; limitMs?: number }): Promise<void>
  /** Renames the project, as its name field does on every keystroke. */
  rename(name: string): void
  /** Changes a document's data in the session (immutably, as the stores do). */
  change<T>(key: string, update: (data: T) => T): void
  label(key: string): string
  /** Called after anything a story panel shows changed (saves, faults, loads, restores). */
  subscribe(listener: () => void): () => void
  readonly version: number
  dispose(): void
}

/** The workspace's document files, not its `.saveflow/` folder (backups, quarantine, lock). */
export const DOCUMENT_FILES = /^(?!\.saveflow\/)/

/** Builds a story's world and opens every document through the session (each one runs the real load machine). */
export async function createScenario(options: ScenarioOptions): Promise<Scenario> {
  const clock = new StoryClock(START)
  const now = () => clock.now()
  const latencyMs = options.latencyMs ?? 200
  const files = await (options.files ?? savedProjectFiles)()
  // No per-step copies: a story runs long, and it never asks what a crash at each step would leave.
  const memory = createMemoryStorage({ files, now, record: false })
  const disk = createFaultyStorage(
    memory,
    [
      // The first matching rule decides a call, so the faults come before the plain latency.
      ...(options.faults ?? []).map((rule) => ({ delayMs: latencyMs, ...rule })),
      { op: ['writeAtomic', 'append'], path: DOCUMENT_FILES, delayMs: latencyMs },
    ],
    { sleep: (ms, signal) => clock.sleep(ms, signal) },
  )
  const repository = createRepository({ storage: disk, now, ...optional('config', options.config) })
  const saves = createSaveLog(repository.writeFn, now)
  const session = createWorkspaceSession({
    repository,
    write: saves.write,
    clock,
    now,
    // No jitter: a story shows the same countdown every time it runs.
    random: () => 0.5,
    ...optional('config', options.config),
    ...optional('readOnly', options.readOnly),
  })
  const backups = createSessionBackups(session, repository)
  const opened = new Map<string, OpenResult>()
  await Promise.all(
    options.documents.map(async (doc) => {
      opened.set(doc.key, await session.open(doc.key))
    }),
  )

  const listeners = new Set<() => void>()
  let version = 0
  const notify = () => {
    version += 1
    for (const listener of [...listeners]) listener()
  }
  const unsubscribers = [saves.subscribe(notify), disk.subscribe(notify), session.on('*', notify)]
  const labels = new Map(options.documents.map((doc) => [doc.key, doc.label ?? doc.key]))

  const change: Scenario['change'] = (key, update) => {
    session.change(key, update(session.data(key) as never))
  }
  return {
    clock,
    uiClock: uiClockFrom(clock, now),
    memory,
    disk,
    repository,
    session,
    coordinator: session.coordinator,
    saves,
    backups,
    documents: options.documents,
    opened,
    advance: (ms) => clock.advance(ms),
    async advanceUntil(done, { stepMs = 100, limitMs = 120_000 } = {}) {
      const deadline = clock.now() + limitMs
      await settle()
      while (!done()) {
        if (clock.now() >= deadline) throw new Error(`the scenario did not get there within ${limitMs} ms`)
        await clock.advance(stepMs)
      }
    },
    rename: (name) =>
      change<ProjectData>('project', (project) => ({
        ...project,
        metadata: { ...project.metadata, name },
      })),
    change,
    label: (key) => labels.get(key) ?? key,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    get version() {
      return version
    },
    dispose() {
      clock.stop()
      for (const unsubscribe of unsubscribers) unsubscribe()
      session.coordinator.stop()
    },
  }
}

/** `{ [name]: value }`, or nothing when the value is undefined (the options are exact). */
function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V }
}

const ScenarioContext = createContext<Scenario | null>(null)

/** Hands the story's scenario to a story component whose props are its args (the scenario comes from a loader). */
export const ScenarioProvider = ScenarioContext.Provider

/** The scenario of the nearest {@link ScenarioProvider}. */
export function useScenario(): Scenario {
  const scenario = useContext(ScenarioContext)
  if (scenario === null) throw new Error('useScenario needs a <ScenarioProvider>')
  return scenario
}

/** Re-renders on every change of the scenario (see {@link Scenario.subscribe}). */
export function useScenarioVersion(scenario: Scenario): number {
  return useSyncExternalStore(
    (listener) => scenario.subscribe(listener),
    () => scenario.version,
  )
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
const panelStyle: CSSProperties = { fontSize: '12px', color: '#374151' }

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

/** The standing rules of the disk that fail with `code` (not the ones that retire after a few calls). */
const standing = (disk: FaultyStorage, code?: FaultCode) =>
  disk
    .rules()
    .filter(
      (rule) => rule.code !== undefined && rule.times === undefined && (code ?? rule.code) === rule.code,
    )

/**
 * Takes away the disk's standing `code` fault, as a person would (free space, fix permissions); disabled once it
 * is gone.
 */
export function ClearFaultButton({
  scenario,
  code,
  children,
}: {
  scenario: Scenario
  code: FaultCode
  children: ReactNode
}) {
  useScenarioVersion(scenario)
  const { disk } = scenario
  const rules = standing(disk, code)
  return (
    <button
      type="button"
      style={storyButton}
      disabled={rules.length === 0}
      onClick={() => {
        for (const rule of rules) disk.removeRule(rule.id)
      }}
    >
      {children}
    </button>
  )
}

/** The name of the project open in the session ('' while none could be opened). */
const projectName = (scenario: Scenario) =>
  (scenario.session.data('project') as ProjectData | undefined)?.metadata.name ?? ''

/** The project's name field: every keystroke is an edit of the document. */
export function ProjectNameField({ scenario }: { scenario: Scenario }) {
  const [text, setText] = useState(() => projectName(scenario))
  const status = useDocumentStatus('project')
  // A restore or a fresh start replaces the document: the field shows what is open now.
  useEffect(
    () =>
      scenario.session.on('*', (event) => {
        if (event.key !== 'project') return
        if (event.type === 'document.restored' || event.type === 'document.loaded') {
          setText(projectName(scenario))
        }
      }),
    [scenario],
  )
  return (
    <label style={{ display: 'flex', flexDirection: 'column', gap: '4px', flex: 1 }}>
      <span style={{ fontWeight: 600 }}>{scenario.label('project')} name</span>
      <textarea
        rows={3}
        value={text}
        readOnly={status === undefined || status.status === 'readOnly' || status.status === 'loading'}
        onChange={(event) => {
          setText(event.target.value)
          scenario.rename(event.target.value)
        }}
        style={{ font: 'inherit', padding: '6px', borderRadius: '6px', border: '1px solid #d1d5db' }}
      />
    </label>
  )
}

/** The project's name field beside its badge, with the revisions under it. */
export function ProjectRow({ scenario, children }: { scenario: Scenario; children?: ReactNode }) {
  const status = useDocumentStatus('project')
  return (
    <section
      aria-label={scenario.label('project')}
      style={{ display: 'flex', gap: '16px', alignItems: 'flex-start' }}
    >
      <ProjectNameField scenario={scenario} />
      <div style={{ display: 'flex', flexDirection: 'column', gap: '4px', width: '24rem' }}>
        <SaveStatusBadge documentKey="project" />
        <small style={{ color: '#4b5563' }}>
          revision in memory {status?.pendingRevision ?? 0}, on disk {status?.savedRevision ?? 0}
        </small>
        {children}
      </div>
    </section>
  )
}

const faultLabel: Readonly<Record<string, string>> = {
  EIO: 'I/O error',
  ENOSPC: 'disk full',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  EBUSY: 'busy',
}

/** How a save ended, in words ("failed, ENOSPC (disk full)"). */
function resultText(result: string | null): string {
  if (result === null) return 'writing…'
  if (result === 'ok') return 'saved'
  if (result === 'aborted') return 'aborted'
  const words = faultLabel[result]
  return words === undefined ? `failed, ${result}` : `failed, ${result} (${words})`
}

/** The saves the coordinator made, one by one: the play functions check them, and so can people. */
export function DiskLog({ scenario, last = 8 }: { scenario: Scenario; last?: number }) {
  useScenarioVersion(scenario)
  const { records } = scenario.saves
  const rows = records.slice(-last)
  const stuck = standing(scenario.disk)[0]?.code
  return (
    <section aria-label="Disk" style={panelStyle}>
      <strong>Disk</strong>
      {stuck !== undefined && <span> (every write fails now: {faultLabel[stuck] ?? stuck})</span>}
      {rows.length === 0 ? (
        <p style={{ margin: '4px 0' }}>No writes yet.</p>
      ) : (
        <ol
          aria-label="Writes"
          start={records.length - rows.length + 1}
          style={{ margin: '4px 0', paddingLeft: '24px' }}
        >
          {rows.map((save) => (
            <li key={`${save.key}:${save.startedAt}:${save.revision}`} data-result={save.result ?? 'writing'}>
              {save.key} revision {save.revision} at {((save.startedAt - START) / 1000).toFixed(1)} s:{' '}
              {resultText(save.result)}
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}

/** The files on the memory disk, with their sizes: quarantine and backups show up here as they happen. */
export function FilesPanel({ scenario }: { scenario: Scenario }) {
  useScenarioVersion(scenario)
  const files = Object.entries(scenario.memory.files())
  return (
    <section aria-label="Files on disk" style={panelStyle}>
      <strong>Files on disk</strong>
      <ul
        aria-label="Files"
        style={{ margin: '4px 0', paddingLeft: '24px', fontFamily: 'ui-monospace, monospace' }}
      >
        {files.map(([path, bytes]) => (
          <li key={path}>
            {path} ({bytes.length} B)
          </li>
        ))}
      </ul>
    </section>
  )
}

/** Provider, toolbar, toasts and the workspace badge around a story's content. */
export function ScenarioFrame({
  scenario,
  children,
  onShowBackups,
  showFiles = false,
}: {
  scenario: Scenario
  children?: ReactNode
  onShowBackups?: (key: string) => void
  /** Lists the files on disk under the save log. @default false */
  showFiles?: boolean
}) {
  return (
    <SaveflowProvider coordinator={scenario.coordinator} clock={scenario.uiClock} backups={scenario.backups}>
      <div style={frameStyle}>
        <TimeBar scenario={scenario} />
        <div style={{ display: 'flex', alignItems: 'center', gap: '8px' }}>
          <span style={{ fontWeight: 600 }}>Workspace</span>
          <SaveStatusBadge />
        </div>
        {children}
        <DiskLog scenario={scenario} />
        {showFiles && <FilesPanel scenario={scenario} />}
      </div>
      <SaveToasts
        documentLabel={scenario.label}
        {...(onShowBackups === undefined ? {} : { onShowBackups })}
        toasterProps={{ position: 'bottom-right', expand: true }}
      />
    </SaveflowProvider>
  )
}
