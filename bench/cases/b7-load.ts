/**
 * B7: loading the large workspace B3 edited (snapshot plus journals, when there are journals): `openWorkspace` and
 * every conversation opened, until all are ready (read, verified, replayed, validated). The reference is a raw read
 * plus `JSON.parse` of the same data as one file; `raw-files` reads the same data laid out one file per document.
 * The project document alone is timed too, through the repository, against a raw read of its one file.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createFsStorage } from 'saveflow/node'
import { createRepository } from '../../src/core/repository'
import { BENCH_WORKSPACE, type BenchContext, measure } from '../context'
import { documentsOf, rawFilesLoad } from '../raw-files'
import { type CaseResult, caseResult, figure, pick, show, showRatio } from '../results-model'
import { openBench, openConversations } from '../saveflow-driver'
import { collect, interleave, type Sample } from '../stats'
import type { LargeFolders } from './b2-full-save'

export async function caseB7(ctx: BenchContext, kept: LargeFolders): Promise<CaseResult> {
  const rounds = ctx.quick ? 1 : 5
  const { sample } = ctx.large
  const paths = documentsOf(sample).map(([path]) => path)
  const timed = async (fn: () => Promise<unknown>) => {
    collect()
    return measure(fn)
  }
  const runners: Record<string, () => Promise<Sample>> = {
    async saveflow() {
      let close = async () => {}
      const sampleOut = await timed(async () => {
        const { ws } = await openBench(kept.saveflowDir, {}, BENCH_WORKSPACE)
        close = async () => void (await ws.close())
        if (ws.project.status !== 'ready') throw new Error(`project opened as ${ws.project.status}`)
        await openConversations(ws, sample)
      })
      await close()
      return sampleOut
    },
    'raw-files': () => timed(() => rawFilesLoad(kept.rawFilesDir, paths)),
    async 'saveflow-project'() {
      return timed(async () => {
        const repository = createRepository({ storage: createFsStorage(kept.saveflowDir) })
        const loaded = await repository.load('project')
        if (!loaded.ok) throw new Error(`project load failed: ${loaded.error.code}`)
      })
    },
    'raw-project': () =>
      timed(async () => JSON.parse(await readFile(join(kept.rawFilesDir, 'project.json'), 'utf8'))),
  }
  for (const peer of kept.peers) runners[peer.id] = () => timed(() => peer.load())
  const samples = await interleave(rounds, runners)

  const ms = (who: string) => samples[who]!.map((s) => s.ms)
  const raw = { who: 'raw', samples: ms('raw') }
  const figures = [
    ...Object.keys(samples)
      .filter((who) => !who.endsWith('-project'))
      .map((who) => figure(who, 'time', 'ms', ms(who), raw)),
    figure('saveflow', 'time vs raw-files', 'ms', ms('saveflow'), {
      who: 'raw-files',
      samples: ms('raw-files'),
    }),
    figure('saveflow-project', 'time', 'ms', ms('saveflow-project'), {
      who: 'raw-project',
      samples: ms('raw-project'),
    }),
    figure('raw-project', 'time', 'ms', ms('raw-project')),
  ]
  const sf = pick(figures, 'saveflow', 'time')
  const sfProject = pick(figures, 'saveflow-project', 'time')
  const checks = [
    {
      label: 'workspace: within 1.25x of raw read + JSON.parse',
      met: (sf.ratio ?? 99) <= 1.25,
      value: showRatio(sf.ratio),
    },
    {
      label: 'project alone: within 1.25x of raw read + JSON.parse',
      met: (sfProject.ratio ?? 99) <= 1.25,
      value: showRatio(sfProject.ratio),
    },
  ]
  return caseResult({
    id: 'B7',
    title: 'Large project: load',
    target: 'within 1.25x of raw read + JSON.parse',
    workload: `large after B3's edits, ${rounds} rounds interleaved`,
    figures,
    checks,
    saveflowText: `workspace ${show(sf.median, 'ms')} (min ${show(sf.min, 'ms')}, max ${show(sf.max, 'ms')}); project alone ${show(sfProject.median, 'ms')}`,
    othersText: `raw ${show(pick(figures, 'raw', 'time').median, 'ms')}, raw project ${show(pick(figures, 'raw-project', 'time').median, 'ms')}; ${['conf', 'lowdb', 'zustand', 'raw-files'].map((id) => `${id} ${show(pick(figures, id, 'time').median, 'ms')}`).join(', ')}`,
    ratioText: `${showRatio(sf.ratio)} raw (${showRatio(pick(figures, 'saveflow', 'time vs raw-files').ratio)} raw-files); project ${showRatio(sfProject.ratio)}`,
    limitedBy: checks.every((c) => c.met)
      ? null
      : "main-thread CPU: a CPU profile of one load shows the conversation logs parsed record by record (40,000 records, each length- and CRC-checked, then JSON.parse'd: ~115 ms), text decoding and checksums of the snapshots, and the garbage all of it makes (~100 ms of GC); zod validation is under 10% of it",
    notes: ['A full collection runs before each timed load, outside the timing.'],
  })
}
