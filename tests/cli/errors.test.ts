import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { initWorkspace, ROOT, removeTempFolders, saveflow, saveflowJson, tempFolder } from './support'

const holders: ChildProcessWithoutNullStreams[] = []

afterEach(async () => {
  for (const child of holders.splice(0)) {
    const exited = new Promise((resolve) => child.on('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }
  await removeTempFolders()
})

/** Starts a process that takes the workspace lock and holds it; resolves once it holds it. */
async function holdLock(dir: string): Promise<{ pid: number; host: string }> {
  const script = fileURLToPath(new URL('./fixtures/hold-lock.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { cwd: ROOT, stdio: 'pipe' })
  holders.push(child)
  let out = ''
  child.stdout.setEncoding('utf8')
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      if (out.includes('\n')) resolve(out.split('\n')[0]!)
    })
    child.on('exit', () => reject(new Error('the lock holder exited early')))
  })
  const answer = JSON.parse(line) as { mode: string; pid: number; host: string }
  expect(answer.mode).toBe('write')
  return answer
}

const COMMANDS = ['verify', 'repair', 'backups', 'backup', 'restore', 'compact', 'export', 'init']

describe('saveflow errors', { timeout: 30_000 }, () => {
  it.each([
    ['does not exist', async () => join(await tempFolder(), 'missing'), 'does not exist'],
    [
      'is a file',
      async () => {
        const file = join(await tempFolder(), 'file.txt')
        await writeFile(file, 'x')
        return file
      },
      'is a file, not a folder',
    ],
    [
      'is not a workspace',
      async () => {
        const dir = await tempFolder()
        await writeFile(join(dir, 'notes.txt'), 'x')
        return dir
      },
      'is not a saveflow workspace',
    ],
  ])(
    'refuses a folder that %s with exit code 4, a message and a hint, no stack',
    async (_, make, message) => {
      const dir = await make()

      const run = await saveflow(['verify', dir])

      expect(run.code).toBe(4)
      expect(run.stderr).toContain(`error: `)
      expect(run.stderr).toContain(message)
      expect(run.stderr).toContain('hint: ')
      expect(run.stderr).not.toMatch(/\n\s+at /)
      expect(run.stdout).toBe('')
    },
  )

  it('reports the error as JSON on stdout with --json', async () => {
    const dir = join(await tempFolder(), 'missing')

    const { code, json } = await saveflowJson<{ error: Record<string, unknown> }>(['verify', dir])

    expect(code).toBe(4)
    expect(json.error).toEqual({
      code: 'no-such-folder',
      message: `The folder ${dir} does not exist.`,
      hint: expect.any(String),
      exitCode: 4,
      details: null,
    })
  })

  it('prints the stack trace only with --debug', async () => {
    const dir = join(await tempFolder(), 'missing')

    const run = await saveflow(['verify', dir, '--debug'])

    expect(run.code).toBe(4)
    expect(run.stderr).toMatch(/\n\s+at /)
  })

  it('refuses to repair a workspace another process holds, naming its pid and host, with exit code 3', async () => {
    const dir = await initWorkspace('small')
    await writeFile(join(dir, 'project.json.123'), 'left by a crash')
    const holder = await holdLock(dir)

    const text = await saveflow(['repair', dir])
    const { code, json } = await saveflowJson<{ error: { code: string; details: unknown } }>(['repair', dir])

    expect(text.code).toBe(3)
    expect(text.stderr).toContain(`pid ${holder.pid} on ${holder.host}`)
    expect(code).toBe(3)
    expect(json.error).toMatchObject({
      code: 'locked',
      details: { holder: { pid: holder.pid, host: holder.host } },
    })
    // Nothing was touched, and the holder keeps its lock.
    expect(await readFile(join(dir, 'project.json.123'), 'utf8')).toBe('left by a crash')
    const lock = JSON.parse(await readFile(join(dir, '.saveflow/lock'), 'utf8')) as { pid: number }
    expect(lock.pid).toBe(holder.pid)
    // Read-only commands still work, and say who holds the lock.
    const verify = await saveflowJson<{ lock: { pid: number; host: string } | null }>(['verify', dir])
    expect(verify.json.lock).toMatchObject({ pid: holder.pid, host: hostname() })
  })

  it.each(['restore', 'compact'])('refuses %s while another process holds the lock', async (command) => {
    const dir = await initWorkspace('small')
    await holdLock(dir)

    const run = await saveflow(command === 'restore' ? [command, dir, 'project', '--latest'] : [command, dir])

    expect(run.code).toBe(3)
    expect(run.stderr).toContain('is using this workspace')
  })

  it('exits 64 on an unknown command or option', async () => {
    const command = await saveflow(['frobnicate'])
    const option = await saveflow(['verify', '.', '--frob'])

    expect(command.code).toBe(64)
    expect(command.stderr).toContain("unknown command 'frobnicate'")
    expect(option.code).toBe(64)
    expect(option.stderr).toContain("unknown option '--frob'")
  })

  it('reports a usage error as JSON too when --json is given', async () => {
    const { code, json } = await saveflowJson<{ error: Record<string, unknown> }>(['verify', '.', '--frob'])

    expect(code).toBe(64)
    expect(json.error).toMatchObject({ code: 'usage', message: "unknown option '--frob'", exitCode: 64 })
  })
})

describe('saveflow colours', { timeout: 30_000 }, () => {
  it('prints no colour codes into a pipe', async () => {
    const dir = join(await tempFolder(), 'missing')

    const run = await saveflow(['verify', dir])

    expect(run.stderr).not.toContain('\x1b[')
  })
})

describe('saveflow --help', { timeout: 60_000 }, () => {
  it('lists every command and the exit codes', async () => {
    const run = await saveflow(['--help'])

    expect(run.code).toBe(0)
    for (const command of COMMANDS) expect(run.stdout).toContain(command)
    expect(run.stdout).toContain('Exit codes:')
    expect(run.stdout).toContain('3   the workspace is locked')
  })

  it('has help for every command', async () => {
    // One child per command, all at once: each is a whole Node start-up.
    const runs = await Promise.all(COMMANDS.map((command) => saveflow([command, '--help'])))

    for (const [index, run] of runs.entries()) {
      expect(run.code).toBe(0)
      expect(run.stdout).toContain(`Usage: saveflow ${COMMANDS[index]} [options] <dir>`)
    }
  })
})

describe('bin/saveflow.js', { timeout: 30_000 }, () => {
  it('runs the CLI through tsx with no build step', async () => {
    const dir = await initWorkspace('small')

    const run = await saveflow(['verify', dir], { entry: [join(ROOT, 'bin/saveflow.js')] })

    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Healthy')
  })
})
