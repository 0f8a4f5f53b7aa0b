// The entry point `saveflow/testing`: simulated storage for our tests, our stories and users' own tests.
// Browser-safe. A plain list of named re-exports: add lines, never `export *`.

export type {
  ActiveFaultRule,
  FaultCode,
  FaultRule,
  FaultyCall,
  FaultyStorage,
  FaultyStorageOptions,
  ScriptStep,
} from './faulty-storage'
export { createFaultyStorage } from './faulty-storage'
export type { CrashOptions } from './memory-state'
export type {
  MemoryOp,
  MemoryStepHook,
  MemoryStepType,
  MemoryStorage,
  MemoryStorageOptions,
} from './memory-storage'
export { createMemoryStorage } from './memory-storage'
export type { SystemError, SystemErrorCode } from './system-error'
export { isSystemErrorCode, systemError } from './system-error'
