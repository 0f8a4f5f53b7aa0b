/**
 * B6: many save cycles (edit, flush, durable) on the small project: the heap after a full collection must not grow,
 * and closing the workspace must leave no timer, handle or process listener behind. The exit flush is installed
 * (as an app on Node would), so its SIGINT/SIGTERM/beforeExit listeners are part of what must go away.
 */
import type { ProjectData } from 'saveflow'
import { BENCH_WORKSPACE, type BenchContext } from '../context'
import { type CaseResult, caseResult, figure, show } from '../results-model'
import { changeAndFlush, openBench } from '../saveflow-driver'
import { heapAfterGc, sleep } from '../stats'
import { createEditor } from '../workloads'

const WATCHED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'exit'] as const

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return counts
}

function listenerCounts(): Map<string, number> {
  return new Map(WATCHED_EVENTS.map((name) => [name, process.listenerCount(name)]))
}

/** What is in `after` beyond `before`, as `Timeout x2` strings. */
function extra(before: Map<string, number>, after: Map<string, number>): string[] {
  const out: string[] = []
  for (const [type, count] of after) {
    const more = count - (before.get(type) ?? 0)
    if (more > 0) out.push(`${type} x${more}`)
  }
  return out
}

export async function caseB6(ctx: BenchContext): Promise<CaseResult> {
  const cycles = ctx.quick ? 50 : 10_000
  const warmup = ctx.quick ? 10 : 500
  const { sample } = ctx.small
  const editor = createEditor(6)
  const dir = await ctx.dir('b6-saveflow')

  await sleep(20)
  const resourcesBefore = resourceCounts()
  const listenersBefore = listenerCounts()
  const { ws } = await openBench(dir, {}, { ...BENCH_WORKSPACE, exitFlush: true })
  let project: ProjectData = sample.project
  await changeAndFlush(ws, 'project', project)
  const cycle = async (i: number) => {
    project = editor.editNode(project, i).next
    await changeAndFlush(ws, 'project', project)
  }
  for (let i = 0; i < warmup; i++) await cycle(i)
  const heapStart = heapAfterGc()
  const started = performance.now()
  const half = Math.floor(cycles / 2)
  for (let i = 0; i < half; i++) await cycle(warmup + i)
  const heapHalf = heapAfterGc()
  for (let i = half; i < cycles; i++) await cycle(warmup + i)
  const perCycle = (performance.now() - started) / cycles
  const heapEnd = heapAfterGc()
  const listenersOpen = listenerCounts()
  await ws.close()
  await sleep(50)
  const leftResources = extra(resourcesBefore, resourceCounts())
  const leftListeners = extra(listenersBefore, listenerCounts())
  const installed = extra(listenersBefore, listenersOpen)
  await ctx.drop(dir)

  const growth = heapEnd - heapStart
  const figures = [
    figure('saveflow', 'heap growth', 'B', [growth]),
    figure('saveflow', 'heap growth, first half', 'B', [heapHalf - heapStart]),
    figure('saveflow', 'heap growth, second half', 'B', [heapEnd - heapHalf]),
    figure('saveflow', 'cycle time', 'ms', [perCycle]),
    figure('saveflow', 'resources left', 'count', [leftResources.length]),
    figure('saveflow', 'listeners left', 'count', [leftListeners.length]),
  ]
  const checks = [
    { label: 'heap growth under 2 MB after GC', met: growth < 2 * 1024 * 1024, value: show(growth, 'B') },
    {
      label: 'no timers or handles left',
      met: leftResources.length === 0,
      value: leftResources.join(', ') || 'none',
    },
    {
      label: 'no process listeners left',
      met: leftListeners.length === 0,
      value: leftListeners.join(', ') || `none (${installed.join(', ') || 'none'} while open)`,
    },
  ]
  return caseResult({
    id: 'B6',
    title: `${cycles.toLocaleString('en')} save cycles`,
    target: 'heap growth < 2 MB after GC; no timers or listeners left',
    workload: `small, edit + flush per cycle, ${warmup} warm-up cycles before the first heap reading`,
    figures,
    checks,
    saveflowText: `heap ${growth >= 0 ? '+' : ''}${show(growth, 'B')}; left after close: ${leftResources.concat(leftListeners).join(', ') || 'nothing'}; ${show(perCycle, 'ms')} per cycle`,
    othersText: 'n/a',
    ratioText: 'n/a',
    limitedBy: checks.every((c) => c.met) ? null : 'see the failed checks',
    notes: [
      `heap after GC: ${show(heapHalf - heapStart, 'B')} over the first ${half} cycles, ${show(heapEnd - heapHalf, 'B')} over the next ${cycles - half}.`,
      `process listeners while open: ${installed.join(', ') || 'none'}; active resources compared by type with process.getActiveResourcesInfo().`,
    ],
  })
}
