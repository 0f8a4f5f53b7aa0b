import { cacheChecker } from './cache-checker'
import type { KindChecker } from './checker'
import { snapshotChecker } from './snapshot-checker'

/**
 * The checkers, keyed by kind, in the order their documents are reported (settings first: they hold the backup
 * policy every other check uses). The snapshot checker reads each kind in its own layout (the project with its
 * journal, conversation logs); a new kind of file adds one entry here.
 */
export const CHECKERS: Readonly<Record<string, KindChecker>> = {
  settings: snapshotChecker('settings'),
  project: snapshotChecker('project'),
  conversation: snapshotChecker('conversation'),
  cache: cacheChecker,
}
