import { appendFile, cp, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { RepairReport, VerifyReport } from '../../src/cli/checks/report'
import { documentPath } from '../../src/core/paths'
import { createSampleWorkspace } from '../../src/core/sample-data'
import { createSnapshotCodec } from '../../src/core/snapshot-codec'
import {
  appSave,
  flipByte,
  initWorkspace,
  listFiles,
  loadData,
  ROOT,
  removeTempFolders,
  renameProject,
  replaceFile,
  saveflow,
  saveflowJson,
  tempFolder,
  truncateHalf,
} from './support'

afterEach(removeTempFolders)

/** A small workspace whose project has one valid backup (revision 1) and a primary at revision 2. */
async function workspaceWithBackup(): Promise<string> {
  const dir = await initWorkspace('small')
  await appSave(dir, 'project', renameProject('Renamed'))
  return dir
}

const backupsOf = async (dir: string, kind: string) =>
  (await listFiles(dir)).filter((path) => path.startsWith(`.saveflow/backups/${kind}/`))

describe('saveflow verify', { timeout: 30_000 }, () => {
  it('reports a fresh sample workspace healthy with exit code 0', async () => {
    const dir = await initWorkspace('small')

    const { code, json } = await saveflowJson<VerifyReport>(['verify', dir])

    expect(code).toBe(0)
    expect(json.result).toBe('healthy')
    expect(json.documents.map((doc) => [doc.key, doc.status])).toEqual([
      ['settings', 'ok'],
      ['project', 'ok'],
      ['conversation/c-0000', 'ok'],
      ['conversation/c-0001', 'ok'],
    ])
    expect(json.problems).toEqual([])
  })

  it('prints a stable JSON shape: every documented key, null for absent values', async () => {
    const dir = await workspaceWithBackup()
    await flipByte(join(dir, 'project.json'))

    const { json } = await saveflowJson<VerifyReport>(['verify', dir])

    expect(Object.keys(json).sort()).toEqual(
      [
        'checkedAt',
        'command',
        'documents',
        'exitCode',
        'formatVersion',
        'lock',
        'problems',
        'quarantine',
        'result',
        'summary',
        'tempFiles',
        'workspace',
      ].sort(),
    )
    expect(json).toMatchObject({ command: 'verify', formatVersion: 1, workspace: dir, lock: null })
    expect(Object.keys(json.summary).sort()).toEqual(
      ['backups', 'documents', 'info', 'invalidBackups', 'needsChoice', 'repairable'].sort(),
    )
    const project = json.documents.find((doc) => doc.key === 'project')!
    expect(Object.keys(project).sort()).toEqual(
      [
        'backups',
        'error',
        'journal',
        'key',
        'kind',
        'path',
        'revision',
        'savedAt',
        'schemaVersion',
        'size',
        'status',
      ].sort(),
    )
    expect(project).toMatchObject({ status: 'corrupt', revision: null, savedAt: null, path: 'project.json' })
    expect(project.error).toEqual({
      code: 'corrupt',
      reason: 'checksum-mismatch',
      message: expect.any(String),
    })
    expect(Object.keys(project.backups[0]!).sort()).toEqual(
      ['error', 'name', 'path', 'revision', 'size', 'status', 'takenAt', 'valid'].sort(),
    )
    expect(project.backups[0]).toMatchObject({ revision: 1, valid: true, status: 'ok', error: null })
    expect(Object.keys(json.problems[0]!).sort()).toEqual(
      ['code', 'fix', 'key', 'message', 'path', 'severity'].sort(),
    )
  })

  it('changes nothing on disk, not even for a file that a load would migrate and back up', async () => {
    const dir = join(await tempFolder(), 'ws')
    await cp(join(ROOT, 'tests/fixtures/v1/workspace'), dir, { recursive: true })
    const before = await listFiles(dir)
    const settingsBefore = await readFile(join(dir, 'settings.json'))

    const { code, json } = await saveflowJson<VerifyReport>(['verify', dir])

    expect(code).toBe(0)
    expect(json.problems).toContainEqual(
      expect.objectContaining({ code: 'older-version', severity: 'info', key: 'settings' }),
    )
    expect(await listFiles(dir)).toEqual(before)
    expect(await readFile(join(dir, 'settings.json'))).toEqual(settingsBefore)
  })
})

describe('saveflow verify and repair of a damaged primary', { timeout: 30_000 }, () => {
  it.each([
    ['a flipped byte', flipByte, 'checksum-mismatch'],
    ['a file cut in half', truncateHalf, 'malformed-json'],
  ])(
    'finds %s, repair restores the backup and keeps the damaged file in quarantine',
    async (_, damage, reason) => {
      const dir = await workspaceWithBackup()
      const [backup] = await backupsOf(dir, 'project')
      await damage(join(dir, 'project.json'))
      const damaged = await readFile(join(dir, 'project.json'))

      const verify = await saveflow(['verify', dir])
      expect(verify.code).toBe(1)
      expect(verify.stdout).toContain('primary-corrupt')
      expect(verify.stdout).toContain(reason)
      expect(verify.stdout).toContain('project.json')

      const repair = await saveflowJson<RepairReport>(['repair', dir])
      expect(repair.code).toBe(0)
      // The journal holds the save of revision 2 and starts at backup 1: it is replayed on it, nothing is lost.
      const restored = repair.json.actions.find((action) => action.type === 'restored')
      expect(restored).toMatchObject({ key: 'project', backup: backup!.split('/').at(-1), revision: 2 })
      const quarantined = restored?.type === 'restored' ? restored.quarantined : null
      expect(quarantined).toMatch(/^\.saveflow\/quarantine\/project\..*\.json$/)
      expect(await readFile(join(dir, quarantined!))).toEqual(damaged)
      expect(await loadData(dir, 'project')).toMatchObject({ metadata: { name: 'Renamed' } })

      const after = await saveflow(['verify', dir])
      expect(after.code).toBe(0)
    },
  )

  it('exits 2 when the primary and every backup are damaged, and repair leaves the primary as it is', async () => {
    const dir = await workspaceWithBackup()
    for (const backup of await backupsOf(dir, 'project')) await flipByte(join(dir, backup))
    await flipByte(join(dir, 'project.json'))
    const damaged = await readFile(join(dir, 'project.json'))

    const verify = await saveflowJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(2)
    expect(verify.json.result).toBe('needs-choice')
    expect(verify.json.problems).toContainEqual(
      expect.objectContaining({ code: 'primary-corrupt', severity: 'needs-choice', key: 'project' }),
    )

    const backups = await backupsOf(dir, 'project')
    const repair = await saveflow(['repair', dir])
    expect(repair.code).toBe(2)
    expect(await readFile(join(dir, 'project.json'))).toEqual(damaged)
    // No valid copy is left: the damaged backup stays where it is, part of the choice.
    expect(await backupsOf(dir, 'project')).toEqual(backups)
    expect(
      (await listFiles(dir)).filter((path) => path.startsWith('.saveflow/quarantine/backups/project/')),
    ).toHaveLength(0)
  })

  it('keeps needing a choice when the app quarantined the file and every backup is damaged', async () => {
    const dir = await workspaceWithBackup()
    const backups = await backupsOf(dir, 'project')
    expect(backups.length).toBeGreaterThan(0)
    for (const backup of backups) await flipByte(join(dir, backup))
    await flipByte(join(dir, 'project.json'))
    // The app's recovery moved the damaged file to quarantine and stopped before a restore.
    const moved = '.saveflow/quarantine/project.20260115T100000000Z-checksum-mismatch.json'
    await mkdir(join(dir, '.saveflow/quarantine'), { recursive: true })
    await rename(join(dir, 'project.json'), join(dir, moved))

    const verify = await saveflowJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(2)
    const missing = verify.json.problems.find((problem) => problem.code === 'primary-missing')
    expect(missing).toMatchObject({ severity: 'needs-choice', key: 'project' })
    expect(missing?.message).toContain(moved)
    expect(verify.json.problems).toContainEqual(
      expect.objectContaining({ code: 'backup-corrupt', severity: 'needs-choice' }),
    )

    // A plain repair does not make it look like a first run: the damaged backups stay, and it still says so.
    const repair = await saveflowJson<RepairReport>(['repair', dir])
    expect(repair.code).toBe(2)
    expect(repair.json.actions.filter((action) => action.type === 'backup-quarantined')).toEqual([])
    expect(await backupsOf(dir, 'project')).toEqual(backups)
    expect((await saveflow(['verify', dir])).code).toBe(2)

    // Asked to, it moves them to quarantine: the document then starts empty, every byte kept.
    const forced = await saveflowJson<RepairReport>(['repair', dir, '--quarantine-unrecoverable'])
    expect(forced.code).toBe(0)
    expect(forced.json.actions.filter((action) => action.type === 'backup-quarantined')).toHaveLength(
      backups.length,
    )
    expect(await backupsOf(dir, 'project')).toEqual([])
    const files = await listFiles(dir)
    expect(files).toContain(moved)
    expect(files.filter((path) => path.startsWith('.saveflow/quarantine/backups/project/'))).toHaveLength(
      backups.length,
    )
  })

  it('moves an unrecoverable primary to quarantine only when asked to', async () => {
    const dir = await initWorkspace('small')
    await flipByte(join(dir, 'project.json'))
    const damaged = await readFile(join(dir, 'project.json'))

    const repair = await saveflow(['repair', dir, '--quarantine-unrecoverable'])

    expect(repair.code).toBe(0)
    const files = await listFiles(dir)
    expect(files).not.toContain('project.json')
    // The snapshot goes, and its journal with it (a journal without its snapshot is no document).
    const moved = files.filter((path) => /^\.saveflow\/quarantine\/project\.\d{8}T/.test(path))
    expect(moved).toHaveLength(1)
    expect(await readFile(join(dir, moved[0]!))).toEqual(damaged)
    expect(files.filter((path) => path.startsWith('.saveflow/quarantine/project.journal.'))).toHaveLength(1)
  })

  it('restores a primary that is missing while backups exist', async () => {
    const dir = await workspaceWithBackup()
    await rename(join(dir, 'project.json'), join(dir, 'elsewhere.bin'))

    const verify = await saveflowJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(1)
    expect(verify.json.problems).toContainEqual(
      expect.objectContaining({ code: 'primary-missing', severity: 'repairable' }),
    )

    expect((await saveflow(['repair', dir])).code).toBe(0)
    expect((await listFiles(dir)).includes('project.json')).toBe(true)
    expect((await saveflow(['verify', dir])).code).toBe(0)
  })

  it('finds data that fails its schema behind a valid checksum', async () => {
    const dir = await workspaceWithBackup()
    // A valid envelope around data the schema refuses: a tree node whose parent does not exist.
    const text = await readFile(join(dir, 'project.json'), 'utf8')
    const envelope = JSON.parse(text) as { data: { tree: { parentId: string | null }[] }; revision: number }
    envelope.data.tree[0]!.parentId = 'no-such-node'
    const bytes = createSnapshotCodec().encode({
      kind: 'project',
      schemaVersion: 1,
      revision: envelope.revision,
      savedAt: new Date().toISOString(),
      data: envelope.data,
    })
    await replaceFile(join(dir, 'project.json'), bytes)

    const { code, json } = await saveflowJson<VerifyReport>(['verify', dir])

    expect(code).toBe(1)
    expect(json.documents.find((doc) => doc.key === 'project')?.status).toBe('invalid')
    expect(json.problems).toContainEqual(
      expect.objectContaining({ code: 'primary-invalid', severity: 'repairable' }),
    )
  })
})

describe('saveflow verify and repair of leftovers', { timeout: 30_000 }, () => {
  it('finds a temp file left by a crash; repair removes it and nothing else', async () => {
    const dir = await initWorkspace('small')
    await writeFile(join(dir, 'project.json.2718281828'), '{"format":1,"kind":"proj')
    const project = await readFile(join(dir, 'project.json'))

    const verify = await saveflowJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(1)
    expect(verify.json.tempFiles).toEqual(['project.json.2718281828'])
    expect(verify.json.problems).toContainEqual(
      expect.objectContaining({ code: 'temp-file', severity: 'repairable', path: 'project.json.2718281828' }),
    )

    const repair = await saveflowJson<RepairReport>(['repair', dir])
    expect(repair.code).toBe(0)
    expect(repair.json.actions).toEqual([
      { type: 'temp-file-removed', key: null, path: 'project.json.2718281828' },
    ])
    expect(await listFiles(dir)).not.toContain('project.json.2718281828')
    expect(await readFile(join(dir, 'project.json'))).toEqual(project)
    expect((await saveflow(['verify', dir])).code).toBe(0)
  })

  it('finds a damaged backup of a healthy document; repair moves it to quarantine', async () => {
    const dir = await workspaceWithBackup()
    const [backup] = await backupsOf(dir, 'project')
    await flipByte(join(dir, backup!))

    const verify = await saveflowJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(1)
    expect(verify.json.summary.invalidBackups).toBe(1)
    expect(verify.json.problems).toContainEqual(
      expect.objectContaining({ code: 'backup-corrupt', severity: 'repairable', path: backup }),
    )

    const repair = await saveflowJson<RepairReport>(['repair', dir])
    expect(repair.code).toBe(0)
    expect(repair.json.actions[0]).toMatchObject({ type: 'backup-quarantined', key: 'project', path: backup })
    expect(await backupsOf(dir, 'project')).toEqual([])
  })

  it('drops a damaged cache on repair and only notes an unknown file', async () => {
    const dir = await initWorkspace('small')
    await mkdir(join(dir, 'cache'))
    await writeFile(join(dir, 'cache/models.json'), 'not json')
    await writeFile(join(dir, 'cache/notes.txt'), 'mine')

    const verify = await saveflowJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(1)
    expect(verify.json.problems).toContainEqual(
      expect.objectContaining({ code: 'cache-invalid', severity: 'repairable', key: 'cache/models' }),
    )
    expect(verify.json.problems).toContainEqual(
      expect.objectContaining({ code: 'unknown-file', severity: 'info', path: 'cache/notes.txt' }),
    )

    const repair = await saveflowJson<RepairReport>(['repair', dir])
    expect(repair.code).toBe(0)
    expect(repair.json.actions).toContainEqual(
      expect.objectContaining({ type: 'cache-dropped', key: 'cache/models' }),
    )
    const files = await listFiles(dir)
    expect(files).not.toContain('cache/models.json')
    expect(files).toContain('cache/notes.txt')
  })
})

describe('saveflow verify and repair of logs and journals', { timeout: 30_000 }, () => {
  const logPath = (dir: string) => join(dir, documentPath('conversation/c-0000'))
  const sample = createSampleWorkspace('small')

  it('finds a torn tail on a conversation log; repair keeps a copy and cuts it off, losing no message', async () => {
    const dir = await initWorkspace('small')
    await appendFile(logPath(dir), '{"len":180,"crc":"1a2b')

    const verify = await saveflowJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(1)
    expect(verify.json.problems).toContainEqual(
      expect.objectContaining({
        code: 'journal-torn-tail',
        severity: 'repairable',
        key: 'conversation/c-0000',
      }),
    )
    expect(verify.json.documents.find((doc) => doc.key === 'conversation/c-0000')?.journal?.tornBytes).toBe(
      22,
    )

    const repair = await saveflowJson<RepairReport>(['repair', dir])
    expect(repair.code).toBe(0)
    const action = repair.json.actions.find((a) => a.type === 'journal-repaired')
    expect(action).toMatchObject({ key: 'conversation/c-0000', path: documentPath('conversation/c-0000') })
    const kept = action?.type === 'journal-repaired' ? action.quarantined : null
    expect((await readFile(join(dir, kept!), 'utf8')).endsWith('{"len":180,"crc":"1a2b')).toBe(true)
    expect(await loadData(dir, 'conversation/c-0000')).toEqual(sample.conversations[0])
    expect((await saveflow(['verify', dir])).code).toBe(0)
  })

  it('finds a bad record in the middle of a log: exit 2, left alone unless --keep-journal-prefix', async () => {
    const dir = await initWorkspace('small')
    // Two more saves, two more batches: damage in the first of them has a whole batch after it.
    const add = (id: string) => (data: unknown) => {
      const conversation = data as { messages: unknown[] }
      const message = { id, role: 'user', content: `Message ${id}`, createdAt: '2026-02-01T00:00:00.000Z' }
      return { ...conversation, messages: [...conversation.messages, message] }
    }
    await appSave(dir, 'conversation/c-0000', add('extra-1'))
    await appSave(dir, 'conversation/c-0000', add('extra-2'))
    const lines = (await readFile(logPath(dir), 'utf8')).split('\n')
    const at = lines.findIndex((line) => line.includes('Message extra-1'))
    lines[at] = lines[at]!.replace('Message extra-1', 'Message extra-X')
    await replaceFile(logPath(dir), new TextEncoder().encode(lines.join('\n')))
    const damaged = await readFile(logPath(dir))

    const verify = await saveflowJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(2)
    expect(verify.json.problems).toContainEqual(
      expect.objectContaining({
        code: 'journal-bad-record',
        severity: 'needs-choice',
        key: 'conversation/c-0000',
      }),
    )

    const untouched = await saveflow(['repair', dir])
    expect(untouched.code).toBe(2)
    expect(await readFile(logPath(dir))).toEqual(damaged)

    const accepted = await saveflowJson<RepairReport>(['repair', dir, '--keep-journal-prefix'])
    expect(accepted.code).toBe(0)
    const action = accepted.json.actions.find((a) => a.type === 'journal-repaired')
    const kept = action?.type === 'journal-repaired' ? action.quarantined : null
    expect(await readFile(join(dir, kept!))).toEqual(damaged)
    // What loads is the prefix before the damage: the sample's 20 messages, without the two added after.
    const messages = ((await loadData(dir, 'conversation/c-0000')) as { messages: unknown[] }).messages
    expect(messages).toEqual(sample.conversations[0]!.messages)
  })

  it('finds a torn tail on the project journal; repair keeps every acknowledged save', async () => {
    const dir = await initWorkspace('small')
    await appSave(dir, 'project', renameProject('Journaled name'))
    await appendFile(join(dir, 'project.journal.jsonl'), '{"len":77')

    const verify = await saveflowJson<VerifyReport>(['verify', dir])
    expect(verify.code).toBe(1)
    expect(verify.json.problems).toContainEqual(
      expect.objectContaining({ code: 'journal-torn-tail', path: 'project.journal.jsonl' }),
    )

    expect((await saveflow(['repair', dir])).code).toBe(0)
    const project = (await loadData(dir, 'project')) as { metadata: { name: string } }
    expect(project.metadata.name).toBe('Journaled name')
    expect((await saveflow(['verify', dir])).code).toBe(0)
  })
})
