import { verifyWorkspace } from '../checks/run'
import { printVerify } from '../format'
import type { CliIo, Output } from '../output'
import { openCheckContext, resolveWorkspace } from '../workspace'

/** `saveflow verify <dir>`: checks every document and backup; changes nothing. Exit 0, 1 or 2 (see `EXIT`). */
export async function verifyCommand(dir: string, io: CliIo, out: Output): Promise<number> {
  const workspace = await resolveWorkspace(io.cwd, dir)
  const ctx = await openCheckContext(workspace)
  const bar = out.progress('verifying')
  const { report } = await verifyWorkspace(ctx, workspace, { onProgress: bar.update })
  bar.finish()
  if (out.json) out.printJson(report)
  else printVerify(out, report)
  return report.exitCode
}
