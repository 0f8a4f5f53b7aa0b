import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/**
 * Starts the kill fixture as a real process. The fixture is TypeScript; `node --import tsx` spends about 0.4 s of
 * CPU loading it (the tsx loader, its esbuild service, every module transformed), and part 2 starts 500 of them on
 * two cores. So it is bundled once per run with esbuild (the bundler tsx itself runs on) into one ES module beside
 * node_modules, packages left external, and started with plain `node`: the same code, a quarter of the start-up.
 * If esbuild cannot be loaded, children run with `node --import tsx` as the fixtures of tests/node do.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const SOURCE = fileURLToPath(new URL('../fixtures/kill-child.ts', import.meta.url))
const BUNDLE_DIR = fileURLToPath(
  new URL('../../../node_modules/.cache/saveflow-reliability/', import.meta.url),
)

/** How children are started: the bundled module, or the TypeScript source through tsx. */
export interface ChildCommand {
  args: string[]
  mode: 'bundle' | 'tsx'
}

/** Bundles the fixture (once per call; call it in `beforeAll`). */
export async function prepareChild(): Promise<ChildCommand> {
  try {
    const esbuild = (await import('esbuild' as string)) as {
      build(options: Record<string, unknown>): Promise<unknown>
    }
    await mkdir(BUNDLE_DIR, { recursive: true })
    const outfile = `${BUNDLE_DIR}kill-child.mjs`
    await esbuild.build({
      entryPoints: [SOURCE],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile,
      logLevel: 'silent',
    })
    return { args: [outfile], mode: 'bundle' }
  } catch {
    return { args: ['--import', 'tsx', SOURCE], mode: 'tsx' }
  }
}

/** A finished child: its stdout lines and how it ended. */
export interface ChildRun {
  lines: string[]
  signal: NodeJS.Signals | null
  code: number | null
  stderr: string
}

/**
 * Runs one child on `dir`. `killAfterMs` (counted from its READY line) SIGKILLs it from outside; `killAt` makes it
 * SIGKILL itself at a write stage. Either way a child still alive after `limitMs` is killed too.
 */
export function runChild(
  command: ChildCommand,
  dir: string,
  options: { killAfterMs?: number; killAt?: string; limitMs?: number },
): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...command.args, dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SAVEFLOW_KILL_AT: options.killAt ?? '' },
    })
    const lines: string[] = []
    let buffer = ''
    let stderr = ''
    const limit = setTimeout(() => child.kill('SIGKILL'), options.limitMs ?? 15_000)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk
      const parts = buffer.split('\n')
      buffer = parts.pop() ?? ''
      for (const line of parts) {
        lines.push(line)
        if (line.startsWith('READY') && options.killAfterMs !== undefined) {
          setTimeout(() => child.kill('SIGKILL'), options.killAfterMs)
        }
      }
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('close', (code, signal) => {
      clearTimeout(limit)
      // A line cut by the kill never reached the pipe whole: only complete lines count as acknowledgements.
      resolve({ lines, signal, code, stderr })
    })
  })
}
