import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import nodePath from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The workspace app's server as a real child process (`node --import tsx examples/workspace/server/main.ts`), the
 * way `npm start` runs it after its build: the pid in the workspace lock is this child's own, so killing it leaves
 * a lock a restart must judge stale.
 */

/** The repository's root: the server and the CLI run from here, as `npm start` runs them. */
export const REPO_ROOT = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '../../..')
const MAIN = nodePath.join(REPO_ROOT, 'examples/workspace/server/main.ts')
const URL_LINE = /saveflow workspace app: (http:\/\/127\.0\.0\.1:(\d+)\/)/

/** A running app server. */
export interface AppProcess {
  readonly url: string
  readonly port: number
  readonly pid: number
  readonly child: ChildProcess
  /** Everything it printed so far (stdout and stderr). */
  output(): string
  /** Resolves with how it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const running = new Set<AppProcess>()

/** Starts the server on `port` (0: any free port) with the workspace folder `dir`; resolves once it printed its URL. */
export async function startApp(dir: string, port = 0): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), SAVEFLOW_DIR: dir, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not in the running set yet: kill it here, or it would outlive the suite.
      child.kill('SIGKILL')
      reject(new Error(`The app server did not start in time:\n${output}`))
    }, 30_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const found = URL_LINE.exec(output)
      if (found !== null) {
        clearTimeout(timer)
        resolve(found)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`The app server exited (${code ?? signal}) before it started:\n${output}`))
    })
  })
  const app: AppProcess = {
    url: match[1]!,
    port: Number(match[2]),
    pid: child.pid!,
    child,
    output: () => output,
    exited,
  }
  running.add(app)
  void exited.then(() => running.delete(app))
  return app
}

/** Kills every server still running (SIGKILL) and waits until each has exited; for afterEach. */
export async function killAllApps(): Promise<void> {
  const apps = [...running]
  for (const app of apps) app.child.kill('SIGKILL')
  await Promise.all(apps.map((app) => app.exited))
}

const tempDirs: string[] = []

/** A fresh path for a workspace folder, inside a temp folder that {@link removeTempDirs} removes. */
export async function tempWorkspaceDir(): Promise<string> {
  const dir = await mkdtemp(nodePath.join(tmpdir(), 'saveflow-e2e-'))
  tempDirs.push(dir)
  // The app creates the folder itself on a first run: hand it a path inside the temp folder.
  return nodePath.join(dir, 'workspace')
}

/** Removes the temp folders made by {@link tempWorkspaceDir}. */
export async function removeTempDirs(): Promise<void> {
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true })
}
