/**
 * The exit codes of the `saveflow` command, one meaning each, the same for every command. Scripts branch on them,
 * so a code never changes meaning; `saveflow --help` prints this table.
 */
export const EXIT = {
  /** Done; for `verify`, the workspace is healthy. */
  ok: 0,
  /** `verify`: problems that `saveflow repair` can fix. `export`: some documents did not verify and were left out. */
  repairable: 1,
  /** `verify`, `repair`: data that cannot be recovered without a choice (a damaged file and no valid backup). */
  needsChoice: 2,
  /** Another process holds the workspace lock; the message names its pid and host. */
  locked: 3,
  /** The folder does not exist, is not a folder, or is not a saveflow workspace (`init`: is not empty). */
  badPath: 4,
  /** A document key or backup id is not allowed (`invalid-id`) or names nothing. */
  badId: 5,
  /** The operation failed: I/O, permissions, a backup that does not verify. */
  failed: 6,
  /** Bad usage: an unknown option, a missing argument (sysexits' EX_USAGE). */
  usage: 64,
} as const

/** One of {@link EXIT}. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** The table printed after `saveflow --help`. */
export const EXIT_CODE_HELP = `Exit codes:
  0   done; verify: the workspace is healthy
  1   verify: problems that "saveflow repair" can fix; export: some documents were left out
  2   verify, repair: data that cannot be recovered without a choice
  3   the workspace is locked by another process (its pid and host are named)
  4   the folder does not exist, is not a folder or not a workspace (init: not empty)
  5   a document key or backup id is not allowed or names nothing
  6   the operation failed (I/O, permissions, a backup that does not verify)
  64  bad usage (unknown option, missing argument)`
