import { cacheChecker } from './cache-checker'
import type { KindChecker } from './checker'
import { snapshotChecker } from './snapshot-checker'

/**
 * The checkers, keyed by kind, in the order their documents are reported (settings first: they hold the backup
 * policy every other check uses). A new file format changes one entry here. Once conversations are `.jsonl` logs and
 * the project has its journal, their entries become `snapshotChecker(kind, { inspectPrimary })` with a read-only
 * replay as `inspectPrimary` (backups stay snapshot files, so backups, repair and compaction carry over), wrapped to
 * add `journal-torn-tail` (repairable) and `journal-bad-record` (needs a choice) problems.
 */
export const CHECKERS: Readonly<Record<string, KindChecker>> = {
  settings: snapshotChecker('settings'),
  project: snapshotChecker('project'),
  conversation: snapshotChecker('conversation'),
  cache: cacheChecker,
}
