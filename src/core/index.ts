// The browser-safe entry point `saveflow`. A plain list of named re-exports: add lines, never `export *`.

export type {
  BackupInfo as LoadBackupInfo,
  FutureVersionReason,
  LoadContext,
  LoadEvent,
  LoadedDocument,
  LoadInput,
  LoadOutcome,
  LoadResult as LoadMachineResult,
  LoadSteps,
  RecoveryReport,
  TriedBackup,
} from '../../machines/loadMachine'
export { loadActorsFrom, loadMachine } from '../../machines/loadMachine'
export type { SaveActorRef } from '../../machines/saveCoordinatorMachine'
export { saveCoordinatorMachine } from '../../machines/saveCoordinatorMachine'
export { saveMachine } from '../../machines/saveMachine'
export type { BackupInfo, TakenBackup } from './backups'
export { formatStamp, listBackups, parseStamp, pruneBackups, resolveBackup, takeBackup } from './backups'
export type { CacheDropReason, EvictedCacheFile, PruneCacheOptions } from './cache'
export { isCacheExpired, pruneCache, settleCacheLoad } from './cache'
export {
  CHECKSUM_PATTERN,
  CRC32_INIT,
  crc32,
  crc32Final,
  crc32OfText,
  crc32Update,
  formatChecksum,
} from './checksum'
export type { PersistenceConfig, PersistenceConfigInput, RetryConfig, ValidationConfig } from './config'
export { DEFAULT_PERSISTENCE_CONFIG, persistenceConfigSchema, resolvePersistenceConfig } from './config'
export type { CheckHooks, FileRead, LoadFailure, LoadResult, LoadSuccess } from './document-reader'
export { checkSnapshot, invalidData, readDocumentFile, readVerified } from './document-reader'
export type { BackupPolicy, DataOf, DocumentDefinition, DocumentDefinitions } from './documents'
export {
  cacheDocument,
  conversationDocument,
  DOCUMENTS,
  defineDocument,
  definitionFor,
  projectDocument,
  settingsDocument,
} from './documents'
export type { RetryClass, SaveflowErrorCode, SaveflowErrorData, SaveflowErrorOptions } from './errors'
export { ERROR_TEXT, isSaveflowError, SaveflowError, toSaveflowError } from './errors'
export { documentJsonSchemas, snapshotFileSchema } from './json-schemas'
export type { LoadStepsOptions, LoadStepsRepository } from './load-steps'
export { backupInfoOf, loadStepsFromRepository, schemaVersionOf } from './load-steps'
export type { Migration } from './migrations'
export { assertMigrationChain, runMigrations, SETTINGS_MIGRATIONS } from './migrations'
export type { DocumentKey, ParsedKey } from './paths'
export {
  assertDocumentId,
  assertStorageDir,
  assertStoragePath,
  BACKUPS_DIR,
  backupDir,
  baseName,
  CACHE_DIR,
  CONVERSATIONS_DIR,
  cacheKey,
  conversationKey,
  documentPath,
  ID_PATTERN,
  isTempFileName,
  joinPath,
  parentDir,
  parseDocumentKey,
  QUARANTINE_DIR,
  SAVEFLOW_DIR,
  tempPathFor,
} from './paths'
export type { QuarantineResult } from './quarantine'
export {
  copyToQuarantine,
  listQuarantine,
  moveToQuarantine,
  quarantinePathFor,
  quarantineReasonSlug,
} from './quarantine'
export type { Repository, RepositoryEvent, RepositoryOptions } from './repository'
export { createRepository } from './repository'
export type { RpcClient, RpcClientOptions, RpcInvoke, RpcInvokeClientOptions } from './rpc-client'
export { createRpcClient, createRpcInvokeClient } from './rpc-client'
export type { RemoteOp, RemoteRepository, RpcResult, ServedRepository } from './rpc-protocol'
export { REMOTE_OPS, RPC_CHANNEL, RPC_PATH } from './rpc-protocol'
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
export type {
  CacheData,
  Conversation,
  ConversationRef,
  Message,
  ProjectData,
  ProjectMetadata,
  ProjectSettings,
  TreeNode,
  UserSettings,
  UserSettingsInput,
  UserSettingsV1,
} from './schemas'
export {
  cacheDataSchema,
  conversationRefSchema,
  conversationSchema,
  editorSettingsSchema,
  idSchema,
  isoDateSchema,
  messageSchema,
  projectDataSchema,
  projectMetadataSchema,
  projectSettingsSchema,
  treeNodeSchema,
  userSettingsSchema,
  userSettingsV1Schema,
} from './schemas'
export type { CorruptReason, DocumentCodec, Snapshot, SnapshotInput } from './snapshot-codec'
export { createSnapshotCodec, decodeSnapshot, SNAPSHOT_FORMAT, snapshotCodec } from './snapshot-codec'
export type {
  AggregateStatus,
  DocumentKind,
  DocumentStatus,
  SaveEvent,
  SaveFailedEvent,
  SaveRecoveredEvent,
  SaveRetryingEvent,
  SaveStatus,
  SaveSucceededEvent,
} from './status'
export { FLUSH_PRIORITY, KIND_PRIORITY } from './status'
export type {
  AppendOptions,
  LinkMethod,
  ReadOptions,
  StorageBackend,
  StorageData,
  StorageEntry,
  StorageOp,
  StorageStat,
  WriteAtomicOptions,
} from './storage'
export { STORAGE_OPS } from './storage'
export type {
  BackupPreview,
  FailedDocument,
  FlushOptions,
  NeedsUserDocument,
  OpenOptions,
  OpenResult,
  ReadyDocument,
  RestoredDocument,
  SessionBackup,
  SessionRepository,
  WorkspaceSession,
  WorkspaceSessionEvent,
  WorkspaceSessionOptions,
} from './workspace-session'
export { createWorkspaceSession, emptyDocumentData } from './workspace-session'
