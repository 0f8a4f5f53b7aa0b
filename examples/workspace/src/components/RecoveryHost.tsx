import { RecoveryDialog } from 'saveflow/react'
import { documentLabel } from '../workspace'
import { useExternalList, useWorkspace } from '../workspace-context'

/**
 * Shows the recovery dialog for each recovery in turn: a document opened from a backup (the user may keep it or
 * pick another), or a document with nothing valid left (the user picks a backup or starts empty; nothing is written
 * meanwhile).
 */
export function RecoveryHost() {
  const { session, stores, recoveries } = useWorkspace()
  const pending = useExternalList(recoveries)
  const first = pending[0]
  if (first === undefined) return null
  const { report } = first
  const dismiss = () => recoveries.remove((item) => item.id === first.id)

  const startEmpty = async () => {
    // A report from the server's own open: the page loaded what was left (nothing), so it already is empty.
    if (first.source === 'page') {
      const result = await session.result(report.key)
      if (result.status === 'needsUser') await result.startEmpty()
    }
    dismiss()
  }

  return (
    <RecoveryDialog
      // A new dialog per recovery: its selection and outcome belong to that report.
      key={first.id}
      report={report}
      onClose={dismiss}
      {...(report.needsUser ? { onStartEmpty: startEmpty } : {})}
      documentLabel={(key) => documentLabel(stores, key)}
    />
  )
}
