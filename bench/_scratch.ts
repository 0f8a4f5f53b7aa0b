import './fs-trace'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { ProjectData } from 'saveflow'
import { BENCH_WORKSPACE } from './context'
import { changeAndFlush, openBench } from './saveflow-driver'
import { createEditor, createWorkload } from './workloads'

const w = createWorkload('large')
const dir = await mkdtemp(join(tmpdir(), 'sf-'))
let { ws } = await openBench(dir, {}, BENCH_WORKSPACE)
await changeAndFlush(ws, 'project', w.sample.project)
await ws.close()
;({ ws } = await openBench(dir, {}, BENCH_WORKSPACE))
let p = ws.session.data('project') as ProjectData
const ed = createEditor()
for (let i = 0; i < 8; i++) {
  p = ed.editNode(p, i).next
  let t = performance.now()
  const v = ws.repository.validate('project', p)
  const tv = performance.now() - t
  t = performance.now()
  await changeAndFlush(ws, 'project', p)
  const tf = performance.now() - t
  console.log({ validate: tv.toFixed(1), flush: tf.toFixed(1), same: v === p })
}
await ws.close()
