import { cacheChecker } from './cache-checker'
import type { KindChecker } from './checker'
import { snapshotChecker } from './snapshot-checker'

/**
 * The checkers, keyed by kind, in the order their documents are reported (settings first: they hold the backup
 * policy every other check uses). A new file format adds one entry here: the journals will bring
 * `conversation` (replacing the snapshot checker once conversations are `.jsonl` logs) and `project-journal`.
 */
export const CHECKERS: Readonly<Record<string, KindChecker>> = {
  settings: snapshotChecker('settings'),
  project: snapshotChecker('project'),
  conversation: snapshotChecker('conversation'),
  cache: cacheChecker,
}
