import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import nodePath from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
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

/** Runs the saveflow CLI; resolves with its exit code and output. */
function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      // A hung command is killed rather than left behind; the test then fails on its exit code.
      timeout: 60_000,
      killSignal: 'SIGKILL',
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.on('exit', (code) => resolve({ code, output }))
  })
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

    // The backup is in place again, verified: the sample, without the edit made after the backup was taken.
    const restored = await readDocument<ProjectData>(dir, 'project')
    expect(restored.tree.map((node) => node.title)).toEqual(sample.tree.map((node) => node.title))
    expect(restored.tree.some((node) => node.description === 'Edited before the damage')).toBe(false)

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
