import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openWorkspace } from '../../src/node/workspace'
import { mulberry32 } from '../../src/testing/crash-states'
import { conversationAt, projectAt, sameData } from './support/documents'
import { recordFigures } from './support/figures'
import { type ChildCommand, prepareChild, runChild } from './support/kill-runner'

/**
 * Part 2: real processes, really killed. A child saves the project and appends to a conversation in a loop through
 * the fs backend on a real folder, printing `ACK <key> <revision>` after each save returned; the parent SIGKILLs it
 * at a random moment or makes it kill itself at one stage of a write, then reopens the folder with `openWorkspace`
 * and checks that every acknowledged save is there (never older), nothing partial loads, and no temp file is left.
 * Two lanes run at once, each on its own folder, each child continuing where the last one was killed.
 */

const STAGES = ['open', 'write', 'fsync', 'rename', 'fsync-dir', 'append', 'unlink'] as const
/** Per lane: kills at each stage, before and after it, at its n-th occurrence for n in 1..STAGE_COUNTS. */
const STAGE_COUNTS = 6
/** Per lane: kills at a random moment. */
const RANDOM_KILLS = 170
const config = { backupInterval: 0, backupCount: 3 }

let command: ChildCommand
const folders: string[] = []

beforeAll(async () => {
  command = await prepareChild()
})

afterAll(async () => {
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })))
})

interface LaneTotals {
  kills: number
  stageKills: number
  randomKills: number
  acknowledged: number
  lostAcks: string[]
  tornLoads: string[]
  tempsLeft: string[]
  childErrors: string[]
  childMs: number
  reopenMs: number
}

async function lane(index: number): Promise<LaneTotals> {
  const dir = join(await mkdtemp(join(tmpdir(), `saveflow-kills-${index}-`)), 'ws')
  folders.push(join(dir, '..'))
  const random = mulberry32(1000 + index)
  const totals: LaneTotals = {
    kills: 0,
    stageKills: 0,
    randomKills: 0,
    acknowledged: 0,
    lostAcks: [],
    tornLoads: [],
    tempsLeft: [],
    childErrors: [],
    childMs: 0,
    reopenMs: 0,
  }
  const plan: ({ killAt: string } | { killAfterMs: number })[] = []
  for (const stage of STAGES) {
    for (const when of ['before', 'after']) {
      for (let n = 1; n <= STAGE_COUNTS; n++) plan.push({ killAt: `${when}:${stage}:${n}` })
    }
  }
  for (let i = 0; i < RANDOM_KILLS; i++) plan.push({ killAfterMs: Math.floor(random() * 60) })
  // Interleaved, so each child starts from what a different kind of kill left behind.
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[plan[i], plan[j]] = [plan[j]!, plan[i]!]
  }
  const acked: Record<'project' | 'conversation/c1', number> = { project: 0, 'conversation/c1': 0 }

  for (const step of plan) {
    let began = performance.now()
    const run = await runChild(command, dir, step)
    totals.childMs += performance.now() - began
    began = performance.now()
    if (run.signal !== 'SIGKILL') {
      totals.childErrors.push(`child ended with ${run.code}: ${run.stderr.slice(0, 300)}`)
      continue
    }
    totals.kills++
    if ('killAt' in step) totals.stageKills++
    else totals.randomKills++
    for (const line of run.lines) {
      const [word, key, revision] = line.split(' ')
      if (word !== 'ACK') continue
      totals.acknowledged++
      acked[key as keyof typeof acked] = Math.max(acked[key as keyof typeof acked], Number(revision))
    }
    const label = `lane ${index} kill ${totals.kills} (${'killAt' in step ? step.killAt : `after ${step.killAfterMs} ms`})`
    const workspace = await openWorkspace(dir, { config })
    try {
      const temps = await workspace.storage.listTempFiles()
      if (temps.length > 0) totals.tempsLeft.push(`${label}: ${temps.join(', ')}`)
      const project = workspace.project
      const conversation = await workspace.openConversation('c1')
      for (const [key, result, dataAt] of [
        ['project', project, projectAt],
        ['conversation/c1', conversation, (n: number) => conversationAt(n)],
      ] as const) {
        if (result.status !== 'ready') {
          totals.tornLoads.push(`${label}: ${key} ${result.status}`)
          continue
        }
        const revision = result.source === 'empty' ? 0 : result.savedRevision
        if (revision > 0 && !sameData(result.data, dataAt(revision)))
          totals.tornLoads.push(`${label}: ${key} revision ${revision} holds other data`)
        if (revision < acked[key])
          totals.lostAcks.push(`${label}: ${key} loaded revision ${revision}, acknowledged ${acked[key]}`)
        if (result.source !== 'primary' && acked[key] > 0)
          totals.tornLoads.push(`${label}: ${key} needed recovery (${result.source})`)
      }
    } finally {
      await workspace.close()
    }
    totals.reopenMs += performance.now() - began
  }
  return totals
}

describe('real process kills', () => {
  it('keeps every acknowledged save through SIGKILL at random moments and at every write stage', async () => {
    const began = performance.now()
    const lanes = await Promise.all([lane(0), lane(1)])
    const sum = (pick: (t: LaneTotals) => number) => lanes.reduce((n, t) => n + pick(t), 0)
    const all = (pick: (t: LaneTotals) => string[]) => lanes.flatMap(pick)
    recordFigures('kills', {
      kills: sum((t) => t.kills),
      stageKills: sum((t) => t.stageKills),
      randomKills: sum((t) => t.randomKills),
      acknowledgedSaves: sum((t) => t.acknowledged),
      lostAcknowledgedSaves: all((t) => t.lostAcks).length,
      tornLoads: all((t) => t.tornLoads).length,
      tempFilesLeft: all((t) => t.tempsLeft).length,
      childRunner: command.mode,
      childSeconds: Math.round(sum((t) => t.childMs) / 100) / 10,
      reopenSeconds: Math.round(sum((t) => t.reopenMs) / 100) / 10,
      seconds: Math.round((performance.now() - began) / 100) / 10,
    })
    expect(all((t) => t.childErrors).slice(0, 5)).toEqual([])
    expect(all((t) => t.lostAcks).slice(0, 10)).toEqual([])
    expect(all((t) => t.tornLoads).slice(0, 10)).toEqual([])
    expect(all((t) => t.tempsLeft).slice(0, 10)).toEqual([])
    expect(sum((t) => t.kills)).toBeGreaterThanOrEqual(500)
    // The kills landed while saves were being acknowledged, not only before the first one. How many saves a child
    // acknowledges before its kill depends on how busy the machine is (724 on a quiet run, below 500 with other
    // suites running beside it), so the floor only proves that the saves happened, far above zero.
    expect(sum((t) => t.acknowledged)).toBeGreaterThan(250)
  })
})
