/**
 * B1: a small project, one edit made durable right away (the debounce is skipped by flushing right after the edit),
 * timed from `session.change` until the save is durable. Peers save the same edit their own way; the raw reference
 * is the ratio's base.
 */
import os from 'node:os'
import type { ProjectData } from 'saveflow'
import { BENCH_WORKSPACE, type BenchContext, FULL_REWRITE_PEERS, measure } from '../context'
import { type Peer, settle } from '../peers'
import { type CaseResult, caseResult, figure, pick, show, showRatio } from '../results-model'
import { changeAndFlush, openBench, openConversations, saveAll } from '../saveflow-driver'
import { interleave, type Sample } from '../stats'
import { createEditor, peerStateOf, withProject } from '../workloads'

export async function caseB1(ctx: BenchContext): Promise<CaseResult> {
  const { sample } = ctx.small
  const warmup = ctx.quick ? 0 : 5
  const rounds = ctx.quick ? 1 : 200
  const editor = createEditor(1)
  const edits: ProjectData[] = []
  let project = sample.project
  for (let i = 0; i < warmup + rounds; i++) {
    project = editor.editNode(project, i).next
    edits.push(project)
  }

  const sfDir = await ctx.dir('b1-saveflow')
  const { ws } = await openBench(sfDir, {}, BENCH_WORKSPACE)
  await openConversations(ws, sample)
  await saveAll(ws, sample)
  const base = peerStateOf(sample)
  const peers: Peer[] = []
  for (const { id, create } of FULL_REWRITE_PEERS) {
    const peer = await create(await ctx.dir(`b1-${id}`))
    await peer.save(base)
    peers.push(peer)
  }

  const runners: Record<string, (round: number) => Promise<Sample>> = {
    saveflow: (round) => measure(() => changeAndFlush(ws, 'project', edits[round]!)),
  }
  for (const peer of peers) {
    runners[peer.id] = async (round) => {
      const sample = await measure(() => peer.save(withProject(base, edits[round]!)))
      await settle(peer)
      return sample
    }
  }
  // Warm-up rounds (JIT, the first save's backup of the file it replaces) are run and dropped.
  const all = await interleave(warmup + rounds, runners)
  await ws.close()
  const samples = Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.slice(warmup)]))

  const ms = (who: string) => samples[who]!.map((s) => s.ms)
  const bytes = (who: string) => samples[who]!.map((s) => s.wchar)
  const raw = { who: 'raw', samples: ms('raw') }
  const figures = Object.keys(samples).flatMap((who) => [
    figure(who, 'time', 'ms', ms(who), raw),
    figure(who, 'bytes', 'B', bytes(who)),
  ])
  const sf = pick(figures, 'saveflow', 'time')
  const checks = [
    { label: 'median under 5 ms', met: sf.median < 5, value: show(sf.median, 'ms') },
    { label: 'p99 under 20 ms', met: sf.p99 < 20, value: show(sf.p99, 'ms') },
  ]
  const others = peers.map((p) => `${p.id} ${show(pick(figures, p.id, 'time').median, 'ms')}`).join(', ')
  return caseResult({
    id: 'B1',
    title: 'Small project: one edit to durable (flush right after the edit)',
    target: 'median < 5 ms, p99 < 20 ms',
    workload: `small (${ctx.small.bytes} B as one JSON), ${rounds} rounds interleaved`,
    figures,
    checks,
    saveflowText: `median ${show(sf.median, 'ms')}, p99 ${show(sf.p99, 'ms')} (min ${show(sf.min, 'ms')}, max ${show(sf.max, 'ms')}); ${show(pick(figures, 'saveflow', 'bytes').median, 'B')} written`,
    othersText: `medians: ${others}`,
    ratioText: `${showRatio(sf.ratio)} raw`,
    limitedBy: checks.every((c) => c.met)
      ? null
      : `the machine: at a load average of ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores the process waits for a CPU and the disk queue; the tail moves with the load, not with saveflow`,
    notes: [
      'saveflow writes the project document (its own file); the peers write the whole workspace (one file), as each is used.',
      `${warmup} warm-up rounds dropped.`,
      `After each peer save, the peer's file is fsynced outside the timing (peers.ts settle): a peer that does not fsync would otherwise leave its dirty pages to the next save's fsync.`,
    ],
  })
}
