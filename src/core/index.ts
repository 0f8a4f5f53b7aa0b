// The browser-safe entry point `saveflow`. A plain list of named re-exports: add lines, never `export *`.

export type { SaveActorRef } from '../../machines/saveCoordinatorMachine'
export { saveCoordinatorMachine } from '../../machines/saveCoordinatorMachine'
export { saveMachine } from '../../machines/saveMachine'
export type {
  Clock,
  RegisterOptions,
  SaveCoordinator,
  SaveCoordinatorOptions,
  SaveMetric,
  SaveOutcome,
  ValidateFn,
  WriteFn,
  WriteRequest,
  WriteResult,
} from './save-coordinator'
export { createSaveCoordinator } from './save-coordinator'
export type { SaveActorSnapshot, SaveCoordinatorSnapshot } from './save-selectors'
export {
  selectAggregateStatus,
  selectDocumentActor,
  selectDocumentStatus,
  selectKeys,
  selectMetrics,
  selectPaused,
  selectSaveActorStatus,
  selectSaveStatus,
  selectWritesInFlight,
} from './save-selectors'
