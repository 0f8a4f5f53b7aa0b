// The Node entry point `saveflow/node`. A plain list of named re-exports: add lines, never `export *`.

export type { FsPromises, FsStorageOptions } from './fs-backend'
export { createFsStorage } from './fs-backend'
