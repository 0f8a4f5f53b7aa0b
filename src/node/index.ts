// The Node entry point `saveflow/node`. A plain list of named re-exports: add lines, never `export *`.

export type { ExitFlushOptions, ExitFlushReport } from './exit-flush'
export { installExitFlush, signalExitCode } from './exit-flush'
export type { FsPromises, FsStorageOptions } from './fs-backend'
export { createFsStorage } from './fs-backend'
export type {
  DispatchOptions,
  ListenRpcOptions,
  RpcEvent,
  RpcHandler,
  RpcHandlerOptions,
  RpcRejectReason,
  RpcServer,
} from './rpc-server'
export { createRpcHandler, listenRpcServer, rpcHttpStatus } from './rpc-server'
export type { OpenWorkspaceOptions, Workspace, WorkspaceExitFlushOptions } from './workspace'
export { openWorkspace } from './workspace'
export type {
  LockHolder,
  ReadOnlyLock,
  WorkspaceLock,
  WorkspaceLockOptions,
  WriteLock,
} from './workspace-lock'
export { acquireWorkspaceLock } from './workspace-lock'
