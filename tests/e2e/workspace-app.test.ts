import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import nodePath from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type {
  BackupsReport,
  RepairAction,
  RepairReport,
  RestoreReport,
  VerifyReport,
} from '../../src/cli/checks/report'
import { createRepository } from '../../src/core/repository'
import type { Conversation, ProjectData } from '../../src/core/schemas'
import { userSettingsSchema } from '../../src/core/schemas'
import { createFsStorage } from '../../src/node/fs-backend'
import {
  type AppProcess,
  killAllApps,
  REPO_ROOT,
  removeTempDirs,
  startApp,
  tempWorkspaceDir,
} from './support/app-process'
import { badgeHistory, clearBadgeHistory, launchChromium, openPage } from './support/browser'
import {
  appendTornTail,
  contentsOf,
  copyWorkspace,
  filesLost,
  flipByte,
  holds,
  listFiles,
  removeCopies,
} from './support/folder'

/**
 * The workspace app end to end: its real server (a child process on 127.0.0.1, a temp folder), the built page in
 * headless Chromium, and the files on disk, read back through the repository. Each test starts its own server and
 * folder; one browser serves the whole suite.
 */

let browser: Browser
const pages: Page[] = []

beforeAll(async () => {
  browser = await launchChromium()
})

afterEach(async () => {
  for (const page of pages.splice(0)) await page.context().close()
  await killAllApps()
})

afterAll(async () => {
  await browser?.close()
  await removeTempDirs()
  await removeCopies()
})

async function open(app: AppProcess): Promise<Page> {
  const page = await openPage(browser)
  pages.push(page)
  await page.goto(app.url)
  await waitForBadge(page, 'saved')
  return page
}

/** Waits until the header badge shows `status`; generous, since a retry may wait out its backoff. */
function waitForBadge(page: Page, status: string, timeout = 20_000) {
  return page.waitForSelector(`.app-badge[data-status="${status}"]`, { timeout })
}

/** A document as it is on disk, read and verified by a repository of its own (a second reader, as the CLI is). */
async function readDocument<T>(dir: string, key: string): Promise<T> {
  const loaded = await createRepository({ storage: createFsStorage(dir) }).load(key)
  if (!loaded.ok) throw loaded.error
  return loaded.data as T
}

/** Names and contents of every file under `dir`, to show that a refused request changed nothing. */
async function snapshotFolder(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = nodePath.join(entry.parentPath, entry.name)
    // The lock's heartbeat rewrites it every few seconds: its presence is what counts.
    files[nodePath.relative(dir, path)] = entry.name === 'lock' ? '(lock)' : await readFile(path, 'utf8')
  }
  return files
}

/** One raw HTTP request, with any Host and Origin (fetch would refuse to set them). */
function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/**
 * Runs the saveflow CLI; resolves with its exit code, its output (stdout and stderr) and its stdout alone.
 * `closedStdout`: the reading end of its stdout is closed at once, as `saveflow verify <dir> | head -1` leaves it.
 */
function runCli(
  args: string[],
  options: { closedStdout?: boolean } = {},
): Promise<{ code: number | null; output: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      // A hung command is killed rather than left behind; the test then fails on its exit code.
      timeout: 60_000,
      killSignal: 'SIGKILL',
    })
    if (options.closedStdout === true) child.stdout.destroy()
    let output = ''
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
      stdout += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    // 'close', not 'exit': the output is complete only once the pipes closed.
    child.on('close', (code) => resolve({ code, output, stdout }))
  })
}

/** Runs the CLI with `--json`; resolves with its exit code and the report it printed on stdout. */
async function runCliJson<T>(args: string[]): Promise<{ code: number | null; report: T }> {
  const { code, output, stdout } = await runCli([...args, '--json'])
  try {
    return { code, report: JSON.parse(stdout) as T }
  } catch {
    throw new Error(`saveflow ${args.join(' ')} --json printed no JSON (exit ${code}):\n${output}`)
  }
}

/** The error a `--json` command prints instead of its report. */
interface CliJsonError {
  error: {
    code: string
    message: string
    hint: string
    exitCode: number
    details: Record<string, unknown> | null
  }
}

async function openDevPanel(page: Page) {
  await page.getByText('Developer: inject faults').click()
}

describe('workspace app', () => {
  it('saves a new feature and a chat message (saving, then saved), shows them after a reload, and flushes on Ctrl-C', async () => {
    const dir = await tempWorkspaceDir()
    const app = await startApp(dir)
    const page = await open(app)
    await clearBadgeHistory(page)

    await page.getByRole('button', { name: '+ Feature' }).click()
    await page.getByLabel('Title').fill('Offline mode')
    await page.getByLabel('Description').fill('Works without a network.')
    await page.getByLabel('New message').fill('What should it do first?')
    await page.getByRole('button', { name: 'Send' }).click()
    await page.locator('.message.assistant').first().waitFor()
    await waitForBadge(page, 'saved')

    const history = await badgeHistory(page)
    expect(history).toContain('saving')
    expect(history.indexOf('saving')).toBeLessThan(history.lastIndexOf('saved'))
    expect(history.at(-1)).toBe('saved')

    const project = await readDocument<ProjectData>(dir, 'project')
    const node = project.tree.find((candidate) => candidate.title === 'Offline mode')
    expect(node).toMatchObject({ parentId: null, description: 'Works without a network.' })
    const ref = project.conversations.find((conversation) => conversation.nodeId === node!.id)
    expect(ref).toBeDefined()
    // The assistant's answer is appended after the user's message: its save may still be on its way.
    await expect
      .poll(async () => {
        const conversation = await readDocument<Conversation>(dir, `conversation/${ref!.id}`)
        return conversation.messages.map((message) => message.role)
      })
      .toEqual(['user', 'assistant'])
    const conversation = await readDocument<Conversation>(dir, `conversation/${ref!.id}`)
    expect(conversation.messages[0]!.content).toBe('What should it do first?')

    await page.reload()
    await waitForBadge(page, 'saved')
    await page.getByRole('button', { name: 'Offline mode' }).click()
    expect(await page.getByLabel('Description').inputValue()).toBe('Works without a network.')
    expect(await page.locator('.message.user p').allTextContents()).toEqual(['What should it do first?'])
    expect(await page.locator('.message.assistant p').count()).toBe(1)

    // Ctrl-C: the server finishes, flushes, releases the lock and exits with 128 + SIGINT.
    app.child.kill('SIGINT')
    expect(await app.exited).toEqual({ code: 130, signal: null })
    expect(app.output()).toContain('everything acknowledged is on disk')
    expect(existsSync(nodePath.join(dir, '.saveflow', 'lock'))).toBe(false)

    // The folder the app wrote passes the CLI's checks.
    const verify = await runCli(['verify', dir])
    expect(verify.code, verify.output).toBe(0)
  })

  it('keeps accepting edits while the server is killed and saves them all once it is back (stale lock taken over)', async () => {
    const dir = await tempWorkspaceDir()
    const first = await startApp(dir)
    const page = await open(first)

    first.child.kill('SIGKILL')
    await first.exited
    const staleLock = JSON.parse(await readFile(nodePath.join(dir, '.saveflow', 'lock'), 'utf8')) as {
      pid: number
    }
    expect(staleLock.pid).toBe(first.pid)

    await page.getByRole('button', { name: '+ Feature' }).click()
    await page.getByLabel('Title').fill('Written while the server was down')
    await waitForBadge(page, 'retrying')
    // Still accepted while saving cannot reach the server: the page holds the edits.
    await page.getByLabel('Description').fill('Typed during the outage')
    await page.getByRole('button', { name: '+ Feature' }).click()
    await page.getByLabel('Title').fill('Second while down')
    expect(await page.locator('.tree-row', { hasText: 'Written while the server was down' }).count()).toBe(1)
    expect(await page.locator('.tree-row', { hasText: 'Second while down' }).count()).toBe(1)

    const second = await startApp(dir, first.port)
    expect(second.output()).not.toContain('read-only')
    await waitForBadge(page, 'saved', 30_000)

    const project = await readDocument<ProjectData>(dir, 'project')
    expect(project.tree.find((node) => node.title === 'Written while the server was down')).toMatchObject({
      description: 'Typed during the outage',
    })
    expect(project.tree.some((node) => node.title === 'Second while down')).toBe(true)
    const lock = JSON.parse(await readFile(nodePath.join(dir, '.saveflow', 'lock'), 'utf8')) as {
      pid: number
    }
    expect(lock.pid).toBe(second.pid)
  })

  it('shows the disk-full hint while the disk is full and saves by itself once the fault is cleared', async () => {
    const dir = await tempWorkspaceDir()
    // A user whose retry cap is one second: a full disk is retried at the cap, so recovery comes quickly.
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const settings = userSettingsSchema.parse({ persistence: { retry: { maxDelay: 1000 } } })
    await createRepository({ storage: createFsStorage(dir) }).save('settings', settings, 1)
    const app = await startApp(dir)
    const page = await open(app)
    await openDevPanel(page)

    await page.getByRole('button', { name: 'Disk full' }).click()
    await page.locator('.faults', { hasText: 'Disk full (ENOSPC)' }).waitFor()
    await page.locator('.tree-row').first().click()
    await page.getByLabel('Description').fill('Edited on a full disk')
    await waitForBadge(page, 'retrying')
    expect(await page.locator('.app-badge').textContent()).toContain(
      'Free some space; saving resumes by itself.',
    )
    const during = await readDocument<ProjectData>(dir, 'project')
    expect(during.tree.some((node) => node.description === 'Edited on a full disk')).toBe(false)

    await page.getByRole('button', { name: 'Clear faults' }).click()
    await waitForBadge(page, 'saved')
    const after = await readDocument<ProjectData>(dir, 'project')
    expect(after.tree.some((node) => node.description === 'Edited on a full disk')).toBe(true)
    await page.getByText('Project is saved again').waitFor()
  })

  it('opens a corrupted project.json from its backup after a reload, with the recovery dialog and the file in quarantine', async () => {
    const dir = await tempWorkspaceDir()
    const app = await startApp(dir)
    const page = await open(app)
    const sample = await readDocument<ProjectData>(dir, 'project')

    // The first save replaces the sample's file, which becomes the first backup.
    await page.locator('.tree-row').first().click()
    await page.getByLabel('Description').fill('Edited before the damage')
    await waitForBadge(page, 'saved')
    expect(await readdir(nodePath.join(dir, '.saveflow', 'backups', 'project'))).toHaveLength(1)

    await openDevPanel(page)
    await page.getByRole('button', { name: 'Corrupt project.json and reload' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByText('Project was restored from a backup').waitFor({ timeout: 20_000 })

    // The damaged snapshot is kept (with the project's journal, if it had one), as it was: half of a project file.
    const quarantine = nodePath.join(dir, '.saveflow', 'quarantine')
    const snapshot = (await readdir(quarantine)).filter((name) => /^project\.\d.*\.json$/.test(name))
    expect(snapshot).toHaveLength(1)
    expect(await dialog.textContent()).toContain(`.saveflow/quarantine/${snapshot[0]}`)
    const damaged = await readFile(nodePath.join(quarantine, snapshot[0]!))
    expect(() => JSON.parse(damaged.toString('utf8'))).toThrow()

    // The backup is in place again, verified, with the saves of the quarantined journal (it starts at that backup)
    // replayed on it: the edit made after the backup was taken is there too, and the dialog says so.
    const restored = await readDocument<ProjectData>(dir, 'project')
    expect(restored.tree.map((node) => node.title)).toEqual(sample.tree.map((node) => node.title))
    expect(restored.tree.some((node) => node.description === 'Edited before the damage')).toBe(true)
    expect(await dialog.textContent()).toContain('nothing saved was lost')
    expect((await readdir(quarantine)).filter((name) => name.startsWith('project.journal.'))).toHaveLength(1)

    await dialog.getByRole('button', { name: 'Keep this version' }).click()
    await dialog.waitFor({ state: 'hidden' })
    // And saving goes on as before.
    await page.locator('.tree-row').first().click()
    await page.getByLabel('Description').fill('Edited after the recovery')
    await waitForBadge(page, 'saved')
    const after = await readDocument<ProjectData>(dir, 'project')
    expect(after.tree.some((node) => node.description === 'Edited after the recovery')).toBe(true)
  })

  it('tells the first page what the server recovered while opening a folder damaged while it was stopped', async () => {
    const dir = await tempWorkspaceDir()
    const first = await startApp(dir)
    const page = await open(first)
    await page.locator('.tree-row').first().click()
    await page.getByLabel('Description').fill('Edited before the server stopped')
    await waitForBadge(page, 'saved')
    first.child.kill('SIGINT')
    await first.exited
    // Damaged while nothing ran: half of the file, put in place by rename (a backup may be a link to the old file).
    const path = nodePath.join(dir, 'project.json')
    const bytes = await readFile(path)
    await writeFile(`${path}.tmp-e2e`, bytes.subarray(0, bytes.length >> 1))
    await rename(`${path}.tmp-e2e`, path)

    const second = await startApp(dir)
    await page.goto(second.url)
    const dialog = page.getByRole('dialog')
    await dialog.getByText('Project was restored from a backup').waitFor()
    expect(await dialog.textContent()).toContain('.saveflow/quarantine/project.')
    await dialog.getByRole('button', { name: 'Keep this version' }).click()
    await dialog.waitFor({ state: 'hidden' })

    // Told once: the next page load opens the repaired file without a dialog.
    await page.reload()
    await waitForBadge(page, 'saved')
    expect(await page.getByRole('dialog').count()).toBe(0)
  })

  it('saves an edit made just before the tab closes (pagehide flush over keepalive requests)', async () => {
    const dir = await tempWorkspaceDir()
    const app = await startApp(dir)
    const page = await open(app)
    await page.locator('.tree-row').first().click()
    // Closed well within the 300 ms debounce: only the pagehide flush can save this.
    await page.getByLabel('Description').fill('Typed just before closing')
    await page.close({ runBeforeUnload: true })

    await expect
      .poll(
        async () =>
          (await readDocument<ProjectData>(dir, 'project')).tree.some(
            (node) => node.description === 'Typed just before closing',
          ),
        { timeout: 10_000 },
      )
      .toBe(true)
  })

  it('refuses requests without the token, from a foreign origin or naming a path, and changes nothing', async () => {
    const dir = await tempWorkspaceDir()
    const app = await startApp(dir)
    const host = `127.0.0.1:${app.port}`
    const page = await rawRequest(app.url, { headers: { host } })
    const token = /"token":"([^"]+)"/.exec(page.body)?.[1]
    expect(token).toBeDefined()
    const before = await snapshotFolder(dir)

    const rpc = `${app.url}saveflow/rpc`
    const faults = `${app.url}saveflow/dev/faults`
    const json = { 'content-type': 'application/json' }
    const save = (key: string) =>
      JSON.stringify({ op: 'save', args: [key, userSettingsSchema.parse({ theme: 'dark' }), 99] })
    const bearer = { authorization: `Bearer ${token}` }

    const refused = [
      // No token.
      await rawRequest(rpc, { method: 'POST', headers: { host, ...json }, body: save('settings') }),
      // The right token, from another site's page.
      await rawRequest(rpc, {
        method: 'POST',
        headers: { host, origin: 'http://evil.example', ...json, ...bearer },
        body: save('settings'),
      }),
      // The right token and origin, naming a path instead of a document.
      await rawRequest(rpc, {
        method: 'POST',
        headers: { host, ...json, ...bearer },
        body: save('../../settings'),
      }),
      // A rebound name: the page (and its token) is not served to it.
      await rawRequest(app.url, { headers: { host: `evil.example:${app.port}` } }),
      // The fault switches without the token, and with it from another site.
      await rawRequest(faults, {
        method: 'POST',
        headers: { host, ...json },
        body: '{"action":"disk-full"}',
      }),
      await rawRequest(faults, {
        method: 'POST',
        headers: { host, origin: 'http://evil.example', ...json, ...bearer },
        body: '{"action":"disk-full"}',
      }),
    ]
    expect(refused.map((response) => response.status)).toEqual([401, 403, 400, 403, 401, 403])
    expect(JSON.parse(refused[2]!.body)).toMatchObject({ ok: false, error: { code: 'invalid-id' } })
    for (const response of refused) expect(response.body).not.toContain(token)

    expect(await snapshotFolder(dir)).toEqual(before)
    const state = await rawRequest(faults, {
      method: 'POST',
      headers: { host, ...json, ...bearer },
      body: '{"action":"state"}',
    })
    expect(JSON.parse(state.body)).toMatchObject({ faults: [] })
  })
})

/** Stops a server the way Ctrl-C does and checks that it flushed and exited cleanly. */
async function stopApp(app: AppProcess) {
  app.child.kill('SIGINT')
  expect(await app.exited).toEqual({ code: 130, signal: null })
}

/** What the fixture folder holds: written by the app, through its page. */
interface WrittenWorkspace {
  dir: string
  /** The feature the user added, and its chat. */
  nodeId: string
  conversationId: string
  /** The chat's log, workspace-relative. */
  log: string
  /** A chat of the sample project the user went on with. */
  sampleConversationId: string
  /** The project's backups, newest first: the one "Back up now" took, then the first save's. */
  projectBackups: string[]
}

const FEATURE = 'Offline mode'
const FIRST_DESCRIPTION = 'Works without a network.'
/** Typed after "Back up now": only the project journal holds it. */
const LATEST_DESCRIPTION = 'Works offline; syncs when it is back.'
const QUESTION = 'What should it do first?'
const SAMPLE_CHAT_MESSAGE = 'Carrying on with this one.'

/**
 * The app, started again on a folder the CLI repaired: it opens without a recovery dialog, every save is done, and
 * the user's feature and chat are there. Stopped with Ctrl-C afterwards, so the folder can be checked again.
 */
async function expectAppShows(dir: string, expected: { description: string; messages: string[] }) {
  const app = await startApp(dir)
  const page = await open(app)
  expect(await page.getByRole('dialog').count()).toBe(0)
  await page.getByRole('button', { name: FEATURE }).click()
  expect(await page.getByLabel('Description').inputValue()).toBe(expected.description)
  await expect.poll(() => page.locator('.message p').allTextContents()).toEqual(expected.messages)
  await stopApp(app)
}

/**
 * One real session, through the page: a feature, a chat with the assistant's answer, "Back up now", one more edit
 * after it, and a message in one of the sample's chats; then Ctrl-C. Written once, by the first test that asks (so its checks run inside a test); every
 * test damages its own copy of the folder.
 */
let writing: Promise<WrittenWorkspace> | undefined
function writtenWorkspace(): Promise<WrittenWorkspace> {
  writing ??= writeWorkspace()
  return writing
}

async function writeWorkspace(): Promise<WrittenWorkspace> {
  const dir = await tempWorkspaceDir()
  const app = await startApp(dir)
  const page = await open(app)
  await page.getByRole('button', { name: '+ Feature' }).click()
  await page.getByLabel('Title').fill(FEATURE)
  await page.getByLabel('Description').fill(FIRST_DESCRIPTION)
  await page.getByLabel('New message').fill(QUESTION)
  await page.getByRole('button', { name: 'Send' }).click()
  await page.locator('.message.assistant').first().waitFor()
  await waitForBadge(page, 'saved')
  const project = await readDocument<ProjectData>(dir, 'project')
  const node = project.tree.find((candidate) => candidate.title === FEATURE)!
  const conversationId = project.conversations.find((ref) => ref.nodeId === node.id)!.id
  await expect
    .poll(
      async () => (await readDocument<Conversation>(dir, `conversation/${conversationId}`)).messages.length,
    )
    .toBe(2)

  await page.getByText('Backups', { exact: true }).click()
  const listed = page.getByRole('list', { name: 'Backups' }).getByRole('listitem')
  await expect.poll(() => listed.count()).toBe(1)
  await page.getByRole('button', { name: 'Back up now' }).click()
  await expect.poll(() => listed.count()).toBe(2)

  await page.getByLabel('Description').fill(LATEST_DESCRIPTION)
  await waitForBadge(page, 'saved')
  await expect
    .poll(async () => (await readDocument<ProjectData>(dir, 'project')).tree.find((n) => n.id === node.id))
    .toMatchObject({ description: LATEST_DESCRIPTION })

  // A chat of the sample, continued: the user's words in a conversation whose id the sample generator uses too.
  const sampleRef = project.conversations.find((ref) => ref.id !== conversationId)!
  const sampleNode = project.tree.find((candidate) => candidate.id === sampleRef.nodeId)!
  const sampleChat = () => readDocument<Conversation>(dir, `conversation/${sampleRef.id}`)
  const sampleLength = (await sampleChat()).messages.length
  await page.getByRole('button', { name: sampleNode.title, exact: true }).click()
  await page.getByLabel('New message').fill(SAMPLE_CHAT_MESSAGE)
  await page.getByRole('button', { name: 'Send' }).click()
  // The message and the assistant's answer to it, both on disk.
  await expect.poll(async () => (await sampleChat()).messages.length).toBe(sampleLength + 2)
  expect((await sampleChat()).messages.map((message) => message.content)).toContain(SAMPLE_CHAT_MESSAGE)
  await waitForBadge(page, 'saved')
  await page.context().close()
  await stopApp(app)

  const backups = await runCliJson<BackupsReport>(['backups', dir, 'project'])
  expect(backups.code).toBe(0)
  const projectBackups = backups.report.documents[0]!.backups
  expect(projectBackups.map((backup) => backup.valid)).toEqual([true, true])
  return {
    dir,
    nodeId: node.id,
    conversationId,
    log: `conversations/${conversationId}.jsonl`,
    sampleConversationId: sampleRef.id,
    projectBackups: projectBackups.map((backup) => backup.name),
  }
}

describe('the saveflow CLI on folders the app wrote', () => {
  const bothMessages = () => [QUESTION, expect.stringContaining(FEATURE)]

  it('finds the folder healthy (exit 0), reports the running app as the lock holder, and will not repair it meanwhile (exit 3)', async () => {
    const written = await writtenWorkspace()
    const dir = await copyWorkspace(written.dir)
    const app = await startApp(dir)
    const before = await contentsOf(dir)

    const verify = await runCliJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(0)
    expect(verify.report).toMatchObject({
      command: 'verify',
      formatVersion: 1,
      result: 'healthy',
      exitCode: 0,
      problems: [],
      tempFiles: [],
      quarantine: [],
      lock: { pid: app.pid },
    })
    const keys = verify.report.documents.map((document) => document.key)
    expect(keys).toEqual(expect.arrayContaining(['project', `conversation/${written.conversationId}`]))
    const projectReport = verify.report.documents.find((document) => document.key === 'project')!
    expect(projectReport).toMatchObject({
      status: 'ok',
      journal: { path: 'project.journal.jsonl', damage: null },
    })
    expect(projectReport.backups.map((backup) => backup.name)).toEqual(written.projectBackups)

    const [repair, repairJson] = await Promise.all([
      runCli(['repair', dir]),
      runCliJson<CliJsonError>(['repair', dir]),
    ])
    expect(repair.code, repair.output).toBe(3)
    expect(repair.output).toContain(String(app.pid))
    expect(repairJson.code).toBe(3)
    expect(repairJson.report.error).toMatchObject({
      code: 'locked',
      exitCode: 3,
      details: { holder: { pid: app.pid } },
    })
    expect(await filesLost(before, dir)).toEqual([])
    expect(await listFiles(dir)).toEqual([...before.values()].flat().sort())

    await stopApp(app)
    const [after, piped] = await Promise.all([
      runCliJson<VerifyReport>(['verify', dir]),
      runCli(['verify', dir], { closedStdout: true }),
    ])
    expect(after.code).toBe(0)
    expect(after.report.lock).toBeNull()
    // Its reader gone (`| head -1`): still the verdict's exit code, and no stack trace on stderr.
    expect(piped.code, piped.output).toBe(0)
    expect(piped.output).toBe('')
  })

  it('a bit flipped in project.json: verify exits 1, repair restores the newest backup and keeps the damaged file, the app opens it', async () => {
    const written = await writtenWorkspace()
    const dir = await copyWorkspace(written.dir)
    const damaged = await flipByte(nodePath.join(dir, 'project.json'), 'Sample project')
    const before = await contentsOf(dir)

    const verify = await runCliJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(1)
    expect(verify.report).toMatchObject({
      result: 'repairable',
      exitCode: 1,
      summary: { repairable: 1, needsChoice: 0 },
      problems: [{ code: 'primary-corrupt', severity: 'repairable', key: 'project', path: 'project.json' }],
    })
    expect(verify.report.problems[0]!.fix).toContain(written.projectBackups[0])
    expect(verify.report.documents.find((document) => document.key === 'project')).toMatchObject({
      status: 'corrupt',
      error: { code: 'corrupt', reason: 'checksum-mismatch' },
    })

    const repair = await runCliJson<RepairReport>(['repair', dir])
    expect(repair.code).toBe(0)
    expect(repair.report.before.result).toBe('repairable')
    expect(repair.report.actions).toMatchObject([
      { type: 'restored', key: 'project', path: 'project.json', backup: written.projectBackups[0] },
    ])
    const restored = repair.report.actions[0] as Extract<RepairAction, { type: 'restored' }>
    expect(restored.quarantined).toMatch(/^\.saveflow\/quarantine\//)
    expect(await holds(dir, restored.quarantined!, damaged)).toBe(true)
    expect(repair.report.after).toMatchObject({ result: 'healthy', exitCode: 0 })
    expect(await filesLost(before, dir)).toEqual([])

    const again = await runCli(['verify', dir])
    expect(again.code, again.output).toBe(0)
    // The backup was taken after the chat and before the last edit: that edit is in the quarantined journal.
    await expectAppShows(dir, { description: FIRST_DESCRIPTION, messages: bothMessages() })
  })

  it('torn tails on a chat log and on the project journal, and a temp file a crash left: verify exits 1, repair cuts them off and loses no acknowledged save', async () => {
    const written = await writtenWorkspace()
    const dir = await copyWorkspace(written.dir)
    const logTail = '{"len":300,"crc":"0a1b'
    const journalTail = '{"len":120,"crc":"12345678","rec":{"op":"se'
    const tornLog = await appendTornTail(nodePath.join(dir, written.log), logTail)
    const tornJournal = await appendTornTail(nodePath.join(dir, 'project.journal.jsonl'), journalTail)
    const temp = 'project.json.2718281828'
    const snapshot = await readFile(nodePath.join(dir, 'project.json'))
    await writeFile(nodePath.join(dir, temp), snapshot.subarray(0, snapshot.length >> 1), { mode: 0o600 })
    const before = await contentsOf(dir)

    // Read-only, both: the report for machines and the one for people.
    const [verify, text] = await Promise.all([
      runCliJson<VerifyReport>(['verify', dir]),
      runCli(['verify', dir]),
    ])
    expect(verify.code).toBe(1)
    expect(verify.report.result).toBe('repairable')
    expect(verify.report.tempFiles).toEqual([temp])
    expect(verify.report.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'journal-torn-tail', severity: 'repairable', path: written.log }),
        expect.objectContaining({
          code: 'journal-torn-tail',
          severity: 'repairable',
          path: 'project.journal.jsonl',
        }),
        expect.objectContaining({ code: 'temp-file', severity: 'repairable', path: temp }),
      ]),
    )
    expect(verify.report.problems).toHaveLength(3)
    const journalOf = (key: string) =>
      verify.report.documents.find((document) => document.key === key)!.journal
    expect(journalOf('project')).toMatchObject({ tornBytes: journalTail.length, damage: null })
    expect(journalOf(`conversation/${written.conversationId}`)).toMatchObject({
      tornBytes: logTail.length,
      damage: null,
    })
    expect(text.code).toBe(1)
    expect(text.output).toContain('3 problems that "saveflow repair" can fix (exit code 1).')

    const repair = await runCliJson<RepairReport>(['repair', dir])
    expect(repair.code).toBe(0)
    const repaired = repair.report.actions.filter((action) => action.type === 'journal-repaired')
    expect(repaired.map((action) => action.path).sort()).toEqual(
      [written.log, 'project.journal.jsonl'].sort(),
    )
    for (const action of repaired) {
      // The copy in quarantine is the whole file as it was, torn tail included.
      const torn = action.path === written.log ? tornLog : tornJournal
      expect(await holds(dir, action.quarantined!, torn)).toBe(true)
    }
    expect(repair.report.actions).toContainEqual({ type: 'temp-file-removed', key: null, path: temp })
    expect(repair.report.actions).toHaveLength(3)
    expect(existsSync(nodePath.join(dir, temp))).toBe(false)
    expect(await filesLost(before, dir, [temp])).toEqual([])

    const again = await runCli(['verify', dir])
    expect(again.code, again.output).toBe(0)
    // Every acknowledged save is there, the last edit (only in the journal) included.
    await expectAppShows(dir, { description: LATEST_DESCRIPTION, messages: bothMessages() })
  })

  it('project.json and its newest backup damaged: repair replays the journal on the backup it starts from, as the app does on open, and loses no acknowledged save', async () => {
    const written = await writtenWorkspace()
    const dir = await copyWorkspace(written.dir)
    const [newest, base] = written.projectBackups
    const damagedSnapshot = await flipByte(nodePath.join(dir, 'project.json'), 'Sample project')
    const damagedBackup = await flipByte(nodePath.join(dir, `.saveflow/backups/project/${newest}`), FEATURE)
    const before = await contentsOf(dir)

    const verify = await runCliJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(1)
    expect(verify.report.problems.map((problem) => [problem.code, problem.severity])).toEqual([
      ['primary-corrupt', 'repairable'],
      ['backup-corrupt', 'repairable'],
    ])

    // The older backup is the snapshot the journal starts from: with the journal replayed on it, every save is back,
    // the edit made after "Back up now" included (the newest backup, had it verified, would not have held that one).
    const repair = await runCliJson<RepairReport>(['repair', dir])
    expect(repair.code).toBe(0)
    expect(repair.report.actions.map((action) => action.type)).toEqual(['backup-quarantined', 'restored'])
    const restored = repair.report.actions[1] as Extract<RepairAction, { type: 'restored' }>
    expect(restored).toMatchObject({ key: 'project', backup: base })
    expect(await holds(dir, restored.quarantined!, damagedSnapshot)).toBe(true)
    const moved = repair.report.actions[0] as Extract<RepairAction, { type: 'backup-quarantined' }>
    expect(await holds(dir, moved.to, damagedBackup)).toBe(true)
    expect(await filesLost(before, dir)).toEqual([])
    const project = await readDocument<ProjectData>(dir, 'project')
    expect(project.tree.find((node) => node.id === written.nodeId)?.description).toBe(LATEST_DESCRIPTION)

    const again = await runCli(['verify', dir])
    expect(again.code, again.output).toBe(0)
    await expectAppShows(dir, { description: LATEST_DESCRIPTION, messages: bothMessages() })
  })

  it('a damaged backup: verify exits 1, repair moves it to quarantine and leaves the document and the other backup alone', async () => {
    const written = await writtenWorkspace()
    const dir = await copyWorkspace(written.dir)
    const [newest, oldest] = written.projectBackups
    const backupPath = `.saveflow/backups/project/${newest}`
    const damaged = await flipByte(nodePath.join(dir, backupPath), FEATURE)
    const before = await contentsOf(dir)
    const primary = await Promise.all(
      ['project.json', 'project.journal.jsonl'].map((path) => readFile(nodePath.join(dir, path))),
    )

    const verify = await runCliJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(1)
    expect(verify.report).toMatchObject({
      result: 'repairable',
      summary: { invalidBackups: 1 },
      problems: [{ code: 'backup-corrupt', severity: 'repairable', key: 'project', path: backupPath }],
    })
    const projectReport = verify.report.documents.find((document) => document.key === 'project')!
    expect(projectReport.status).toBe('ok')
    expect(projectReport.backups.map((backup) => [backup.name, backup.valid])).toEqual([
      [newest, false],
      [oldest, true],
    ])

    const repair = await runCliJson<RepairReport>(['repair', dir])
    expect(repair.code).toBe(0)
    expect(repair.report.actions).toMatchObject([
      { type: 'backup-quarantined', key: 'project', path: backupPath },
    ])
    const moved = repair.report.actions[0] as Extract<RepairAction, { type: 'backup-quarantined' }>
    expect(await holds(dir, moved.to, damaged)).toBe(true)
    expect(await filesLost(before, dir)).toEqual([])
    expect(await holds(dir, 'project.json', primary[0]!)).toBe(true)
    expect(await holds(dir, 'project.journal.jsonl', primary[1]!)).toBe(true)

    const projectAfter = repair.report.after.documents.find((document) => document.key === 'project')!
    expect(projectAfter.backups.map((backup) => [backup.name, backup.valid])).toEqual([[oldest, true]])
    const again = await runCli(['verify', dir])
    expect(again.code, again.output).toBe(0)
  })

  it('the project journal damaged in the middle: verify and repair exit 2 and change nothing, restore --latest is the choice', async () => {
    const written = await writtenWorkspace()
    const dir = await copyWorkspace(written.dir)
    const journal = nodePath.join(dir, 'project.journal.jsonl')
    // The record that added the feature, with later saves after it: damage in the middle, not a torn tail.
    const damaged = await flipByte(journal, FEATURE)
    const before = await contentsOf(dir)

    const verify = await runCliJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(2)
    expect(verify.report).toMatchObject({
      result: 'needs-choice',
      exitCode: 2,
      summary: { needsChoice: 1 },
      problems: [
        {
          code: 'journal-bad-record',
          severity: 'needs-choice',
          key: 'project',
          path: 'project.journal.jsonl',
        },
      ],
    })
    expect(verify.report.documents.find((document) => document.key === 'project')!.journal).toMatchObject({
      damage: { code: 'corrupt', reason: 'checksum-mismatch' },
    })

    const repair = await runCliJson<RepairReport>(['repair', dir])
    expect(repair.code).toBe(2)
    expect(repair.report.actions).toEqual([])
    expect(await holds(dir, 'project.journal.jsonl', damaged)).toBe(true)

    const restore = await runCliJson<RestoreReport>(['restore', dir, 'project', '--latest'])
    expect(restore.code).toBe(0)
    expect(restore.report).toMatchObject({
      command: 'restore',
      key: 'project',
      restored: { name: written.projectBackups[0] },
    })
    expect(restore.report.undo).toContain('saveflow restore')
    // The damaged journal is kept in quarantine, as it was.
    expect(await filesLost(before, dir)).toEqual([])

    const again = await runCli(['verify', dir])
    expect(again.code, again.output).toBe(0)
    await expectAppShows(dir, { description: FIRST_DESCRIPTION, messages: bothMessages() })
  })

  it('project.json and every backup of it damaged: exit 2, nothing restored or deleted; quarantining it (the choice) starts the project empty', async () => {
    const written = await writtenWorkspace()
    const dir = await copyWorkspace(written.dir)
    const damaged = new Map<string, Buffer>()
    damaged.set('project.json', await flipByte(nodePath.join(dir, 'project.json'), 'Sample project'))
    for (const name of written.projectBackups) {
      const path = `.saveflow/backups/project/${name}`
      damaged.set(path, await flipByte(nodePath.join(dir, path), 'Sample project'))
    }
    const before = await contentsOf(dir)

    const verify = await runCliJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(2)
    expect(verify.report.result).toBe('needs-choice')
    expect(verify.report.summary).toMatchObject({ needsChoice: 3, invalidBackups: 2 })
    expect(verify.report.problems.map((problem) => [problem.code, problem.severity, problem.path])).toEqual([
      ['primary-corrupt', 'needs-choice', 'project.json'],
      ...written.projectBackups.map((name) => [
        'backup-corrupt',
        'needs-choice',
        `.saveflow/backups/project/${name}`,
      ]),
    ])

    // No valid copy is left, so the damaged backups are part of the choice: a plain repair moves nothing.
    const repair = await runCliJson<RepairReport>(['repair', dir])
    expect(repair.code).toBe(2)
    expect(repair.report.actions).toEqual([])
    expect(await contentsOf(dir)).toEqual(before)

    // No backup is left to restore: an error, and nothing changes.
    const files = await listFiles(dir)
    const restore = await runCliJson<CliJsonError>(['restore', dir, 'project', '--latest'])
    expect(restore.code).toBe(6)
    expect(restore.report.error.exitCode).toBe(6)
    expect(await listFiles(dir)).toEqual(files)

    // The choice README names: move the file to quarantine and start this document empty.
    const conversations = await contentsOf(nodePath.join(dir, 'conversations'))
    const choose = await runCliJson<RepairReport>(['repair', dir, '--quarantine-unrecoverable'])
    expect(choose.code).toBe(0)
    expect(choose.report.actions.map((action) => action.type).sort()).toEqual([
      'backup-quarantined',
      'backup-quarantined',
      'quarantined',
    ])
    for (const action of choose.report.actions) {
      if (action.type !== 'backup-quarantined' && action.type !== 'quarantined') continue
      expect(await holds(dir, action.to, damaged.get(action.path)!)).toBe(true)
    }
    expect(await filesLost(before, dir)).toEqual([])
    expect(choose.report.after).toMatchObject({ result: 'healthy', exitCode: 0 })

    // The app opens the project empty, as chosen: no sample project in its place, the chats' files untouched.
    const app = await startApp(dir)
    const page = await open(app)
    expect(app.output()).not.toContain('sample project was created')
    expect(await page.getByRole('dialog').count()).toBe(0)
    expect(await page.locator('.tree-row').count()).toBe(0)
    await stopApp(app)
    expect(await filesLost(conversations, nodePath.join(dir, 'conversations'))).toEqual([])
    expect(await filesLost(before, dir)).toEqual([])
    const sampleChat = await readDocument<Conversation>(dir, `conversation/${written.sampleConversationId}`)
    expect(sampleChat.messages.map((message) => message.content)).toContain(SAMPLE_CHAT_MESSAGE)
  })
})

describe('developer panel faults', () => {
  /** The app on a fresh folder, its page open with the fault panel unfolded. */
  async function openApp() {
    const dir = await tempWorkspaceDir()
    const page = await open(await startApp(dir))
    await openDevPanel(page)
    return { dir, page }
  }

  /** Switches a fault on with its button and waits until the panel lists it; the badge record starts afresh. */
  async function switchOn(page: Page, button: string, label: string) {
    await page.getByRole('button', { name: button }).click()
    await page.locator('.faults', { hasText: label }).waitFor()
    await clearBadgeHistory(page)
  }

  const described = async (dir: string, description: string) =>
    (await readDocument<ProjectData>(dir, 'project')).tree.some((node) => node.description === description)

  /**
   * One save on a healthy disk, of the first feature (left selected): the session's first save of the project also
   * writes its backup, so after this one a save is the journal append alone.
   */
  async function saveOnceHealthy(dir: string, page: Page) {
    await page.locator('.tree-row').first().click()
    await page.getByLabel('Description').fill('Saved on a healthy disk')
    await expect.poll(() => described(dir, 'Saved on a healthy disk')).toBe(true)
    await waitForBadge(page, 'saved')
  }

  it('permission denied: the badge fails with the hint and a Retry button; Retry fails again while denied and saves once cleared', async () => {
    const { dir, page } = await openApp()
    await switchOn(page, 'Permission denied', 'Permission denied (EACCES)')
    await page.locator('.tree-row').first().click()
    await page.getByLabel('Description').fill('Edited without permission')
    await waitForBadge(page, 'failed')
    const badge = page.locator('.app-badge')
    const alert = badge.getByRole('alert')
    expect(await alert.textContent()).toContain('saveflow is not allowed to write to the data folder.')
    expect(await alert.textContent()).toContain('Check the folder permissions, then press Retry.')
    await page.getByText('Project is not saved').waitFor()
    expect(await described(dir, 'Edited without permission')).toBe(false)

    // Retry while the folder is still not writable: one more attempt, failed again, nothing written.
    const retry = badge.getByRole('button', { name: 'Retry' })
    await clearBadgeHistory(page)
    await retry.click()
    await expect
      .poll(async () => {
        const history = await badgeHistory(page)
        return history.includes('saving') && history.at(-1) === 'failed'
      })
      .toBe(true)
    expect(await described(dir, 'Edited without permission')).toBe(false)

    // Cleared: a permission error is retried on the user's word, not by itself.
    await page.getByRole('button', { name: 'Clear faults' }).click()
    await page.locator('.faults', { hasText: 'No faults' }).waitFor()
    expect(await badge.getAttribute('data-status')).toBe('failed')
    await retry.click()
    await waitForBadge(page, 'saved')
    expect(await described(dir, 'Edited without permission')).toBe(true)
    await page.getByText('Project is saved again').waitFor()
  })

  it('slow disk: edits made while a write takes seconds are all saved, the newest last', async () => {
    const { dir, page } = await openApp()
    await saveOnceHealthy(dir, page)
    await switchOn(page, 'Slow disk', 'Slow disk (2.5 s per write)')
    const healthy = await readDocument<ProjectData>(dir, 'project')
    const editedId = healthy.tree.find((node) => node.description === 'Saved on a healthy disk')!.id
    await page.getByLabel('Description').fill('First edit on a slow disk')
    await waitForBadge(page, 'saving')

    // While that write is on its way (it takes 2.5 s): the same field again, and a new feature.
    await page.getByLabel('Description').fill('Second edit, typed during the first write')
    await page.getByRole('button', { name: '+ Feature' }).click()
    await page.getByLabel('Title').fill('Added during a slow write')
    expect(await described(dir, 'First edit on a slow disk')).toBe(false)

    await waitForBadge(page, 'saved', 30_000)
    const project = await readDocument<ProjectData>(dir, 'project')
    expect(project.tree.find((node) => node.id === editedId)?.description).toBe(
      'Second edit, typed during the first write',
    )
    expect(project.tree.some((node) => node.title === 'Added during a slow write')).toBe(true)
    const history = await badgeHistory(page)
    expect(history).toContain('saving')
    expect(history).not.toContain('failed')
    expect(history).not.toContain('retrying')
  })

  it('flaky disk: two failed writes are retried and a toast says the project is saved again', async () => {
    const { dir, page } = await openApp()
    // A healthy save first, for the session's backup: written with the next save, it would meet one of the two
    // failures (a failed backup is put off and the save goes on: the newest data matters more).
    await saveOnceHealthy(dir, page)
    await switchOn(page, 'Flaky disk', 'Flaky disk (EIO twice, then fine)')
    await page.getByLabel('Description').fill('Saved through a flaky disk')
    const toast = page.locator('[data-sonner-toast]', { hasText: 'Project is saved again' })
    await toast.waitFor({ timeout: 20_000 })
    expect(await toast.textContent()).toContain('It saved after 2 failed attempts.')
    await waitForBadge(page, 'saved')
    expect(await described(dir, 'Saved through a flaky disk')).toBe(true)
    const history = await badgeHistory(page)
    expect(history).toContain('retrying')
    expect(history).not.toContain('failed')
  })
})
