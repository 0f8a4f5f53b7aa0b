import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { BackupsReport, RestoreReport } from '../../src/cli/checks/report'
import {
  appSave,
  flipByte,
  initWorkspace,
  listFiles,
  loadData,
  removeTempFolders,
  renameProject,
  saveflow,
  saveflowJson,
} from './support'

afterEach(removeTempFolders)

/** Project at revision 2 with one backup (revision 1); settings and conversations without backups. */
async function workspaceWithBackup(): Promise<string> {
  const dir = await initWorkspace('small')
  await appSave(dir, 'project', renameProject('Second name'))
  return dir
}

const projectName = async (dir: string): Promise<string> =>
  ((await loadData(dir, 'project')) as { metadata: { name: string } }).metadata.name

describe('saveflow backups', { timeout: 30_000 }, () => {
  it('lists each backup with time, revision, size and validity', async () => {
    const dir = await workspaceWithBackup()
    const [backupPath] = (await listFiles(dir)).filter((path) =>
      path.startsWith('.saveflow/backups/project/'),
    )
    const size = (await readFile(join(dir, backupPath!))).length

    const { code, json } = await saveflowJson<BackupsReport>(['backups', dir, 'project'])

    expect(code).toBe(0)
    expect(json.documents).toHaveLength(1)
    const [backup] = json.documents[0]!.backups
    expect(backup).toMatchObject({ path: backupPath, revision: 1, size, valid: true })
    expect(Date.parse(backup!.takenAt)).not.toBeNaN()
  })

  it('lists only documents that have backups when no document is given, and marks invalid ones', async () => {
    const dir = await workspaceWithBackup()
    const [backupPath] = (await listFiles(dir)).filter((path) =>
      path.startsWith('.saveflow/backups/project/'),
    )
    await flipByte(join(dir, backupPath!))

    const text = await saveflow(['backups', dir])
    const { json } = await saveflowJson<BackupsReport>(['backups', dir])

    expect(text.code).toBe(0)
    expect(text.stdout).toContain('project (project.json)')
    expect(text.stdout).toMatch(/r1 .*INVALID: corrupt \(checksum-mismatch\)/)
    expect(json.documents.map((doc) => doc.key)).toEqual(['project'])
    expect(json.documents[0]!.backups[0]).toMatchObject({ valid: false, status: 'corrupt' })
  })

  it('refuses a bad document key with invalid-id and exit code 5', async () => {
    const dir = await workspaceWithBackup()

    const text = await saveflow(['backups', dir, 'conversation/../../etc'])
    const { code, json } = await saveflowJson<{ error: { code: string; exitCode: number } }>([
      'backups',
      dir,
      'conversation/../../etc',
    ])

    expect(text.code).toBe(5)
    expect(text.stderr).toContain('is not allowed')
    expect(text.stderr).toContain('hint:')
    expect(code).toBe(5)
    expect(json.error).toMatchObject({ code: 'invalid-id', exitCode: 5 })
  })
})

describe('saveflow restore', { timeout: 30_000 }, () => {
  it('restores the latest backup and keeps the replaced file as a backup, so the restore can be undone', async () => {
    const dir = await workspaceWithBackup()
    const current = await loadData(dir, 'project')
    expect(await projectName(dir)).toBe('Second name')

    const restore = await saveflowJson<RestoreReport>(['restore', dir, 'project', '--latest'])

    expect(restore.code).toBe(0)
    expect(restore.json.restored.revision).toBe(1)
    expect(await projectName(dir)).toBe('Sample project')
    const keptAs = restore.json.replaced.keptAs
    expect(keptAs).toMatch(/-r2\.json$/)
    expect(restore.json.undo).toBe(`saveflow restore ${dir} project ${keptAs}`)

    const undo = await saveflow(['restore', dir, 'project', keptAs!])

    expect(undo.code).toBe(0)
    expect(undo.stdout).toContain(`from backup ${keptAs}`)
    expect(await loadData(dir, 'project')).toEqual(current)
    expect((await saveflow(['verify', dir])).code).toBe(0)
  })

  it('puts a damaged primary in quarantine when it restores over it', async () => {
    const dir = await workspaceWithBackup()
    await flipByte(join(dir, 'project.json'))

    const { code, json } = await saveflowJson<RestoreReport>(['restore', dir, 'project', '--latest'])

    expect(code).toBe(0)
    expect(json.replaced.keptAs).toBeNull()
    expect(json.replaced.quarantined).toMatch(/^\.saveflow\/quarantine\/project\./)
    expect(await projectName(dir)).toBe('Sample project')
  })

  it('refuses a backup that does not verify with exit code 6 and changes nothing', async () => {
    const dir = await workspaceWithBackup()
    const [backupPath] = (await listFiles(dir)).filter((path) =>
      path.startsWith('.saveflow/backups/project/'),
    )
    await flipByte(join(dir, backupPath!))
    const before = await readFile(join(dir, 'project.json'))

    const byId = await saveflow(['restore', dir, 'project', backupPath!.split('/').pop()!])
    const latest = await saveflow(['restore', dir, 'project', '--latest'])

    expect(byId.code).toBe(6)
    expect(byId.stderr).toContain('does not verify')
    expect(latest.code).toBe(6)
    expect(latest.stderr).toContain('no backup that verifies')
    expect(await readFile(join(dir, 'project.json'))).toEqual(before)
  })

  it('names an unknown or malformed backup id with exit code 5', async () => {
    const dir = await workspaceWithBackup()

    const unknown = await saveflow(['restore', dir, 'project', '20200101T000000000Z-r1.json'])
    const malformed = await saveflow(['restore', dir, 'project', '../../project.json'])

    expect(unknown.code).toBe(5)
    expect(unknown.stderr).toContain('There is no backup "20200101T000000000Z-r1.json"')
    expect(malformed.code).toBe(5)
  })

  it('needs exactly one of a backup id and --latest (usage, exit code 64)', async () => {
    const dir = await workspaceWithBackup()

    const neither = await saveflow(['restore', dir, 'project'])
    const both = await saveflow(['restore', dir, 'project', 'x.json', '--latest'])

    expect(neither.code).toBe(64)
    expect(neither.stderr).toContain('Give either a backup id or --latest.')
    expect(both.code).toBe(64)
  })
})
