/**
 * saveflow/react: the provider, status hooks, the status badge, failure toasts and the recovery dialog.
 * Components read statuses from the coordinator's actor with `@xstate/react`'s `useSelector` and the selectors of
 * `save-selectors.ts`, and hear events from the coordinator (`on`); they never import the machines.
 */
export type { ListedBackup } from './backup-info'
export { backupInfoFromRead } from './backup-info'
export type { UiClock } from './clock'
export { systemUiClock, uiClockFrom } from './clock'
export type { BackupsState } from './hooks'
export { useBackups, useDocumentStatus, useSaveflowSelector, useSaveStatus } from './hooks'
export type { RecoveryDialogProps } from './RecoveryDialog'
export { RecoveryDialog } from './RecoveryDialog'
export type { SaveflowProviderProps } from './SaveflowProvider'
export { SaveflowProvider, useSaveCoordinator } from './SaveflowProvider'
export type { SaveStatusBadgeProps } from './SaveStatusBadge'
export { SaveStatusBadge } from './SaveStatusBadge'
export type { SaveToastsProps } from './SaveToasts'
export { SaveToasts } from './SaveToasts'
export type { BadgeText, BadgeView } from './text'
export { badgeText } from './text'
export type { BackupInfo, BackupPreview, BackupsAdapter, RecoveryReport, RestoreResult } from './types'
