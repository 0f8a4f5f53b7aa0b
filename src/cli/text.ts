/**
 * Every sentence the `saveflow` command shows that is not a `SaveflowError`'s own text: the CLI's errors and hints,
 * and what each verify problem means and how it is fixed. One place, so wording stays consistent and reviewable.
 */

/** Codes of the CLI's own errors (the storage layer's errors keep their `SaveflowError` codes). */
export type CliErrorCode =
  | 'no-such-folder'
  | 'not-a-folder'
  | 'not-a-workspace'
  | 'not-empty'
  | 'unknown-document'
  | 'unknown-backup'
  | 'no-valid-backup'
  | 'backup-invalid'
  | 'nothing-to-restore'
  | 'locked'
  | 'usage'

/** Message and hint of each CLI error, given what it is about. */
export const CLI_ERROR_TEXT: Readonly<
  Record<CliErrorCode, (subject: string) => { message: string; hint: string }>
> = {
  'no-such-folder': (dir) => ({
    message: `The folder ${dir} does not exist.`,
    hint: 'Check the path, or create a workspace there with "saveflow init <dir>".',
  }),
  'not-a-folder': (dir) => ({
    message: `${dir} is a file, not a folder.`,
    hint: 'Give the workspace folder, the one holding project.json and .saveflow/.',
  }),
  'not-a-workspace': (dir) => ({
    message: `${dir} is not a saveflow workspace (no project.json, settings.json, conversations/ or .saveflow/).`,
    hint: 'Give the workspace folder itself, or create one with "saveflow init <dir>".',
  }),
  'not-empty': (dir) => ({
    message: `The folder ${dir} is not empty.`,
    hint: 'Pick an empty or new folder, or add --force to write the sample over it (replaced files are backed up).',
  }),
  'unknown-document': (key) => ({
    message: `The workspace has no document ${key}.`,
    hint: 'Keys are project, settings, conversation/<id> and cache/<name>; "saveflow verify <dir>" lists them.',
  }),
  'unknown-backup': (name) => ({
    message: `There is no backup ${JSON.stringify(name.slice(0, 80))} of this document.`,
    hint: 'Backup ids look like 20260115T103000123Z-r41.json; list them with "saveflow backups <dir> <doc>".',
  }),
  'no-valid-backup': (key) => ({
    message: `${key} has no backup that verifies.`,
    hint: 'Nothing was changed. "saveflow backups <dir> <doc>" shows each backup and why it is invalid.',
  }),
  'backup-invalid': (name) => ({
    message: `The backup ${name} does not verify, so it was not restored.`,
    hint: 'Nothing was changed. Pick a valid backup from "saveflow backups <dir> <doc>".',
  }),
  'nothing-to-restore': (key) => ({
    message: `${key} has no backups.`,
    hint: 'Backups are taken as the app saves; "saveflow backup <dir>" takes one now.',
  }),
  locked: (holder) => ({
    message: holder,
    hint: 'Close the app or process using this workspace, then run the command again. Read-only commands (verify, backups, export) work meanwhile.',
  }),
  usage: (message) => ({ message, hint: 'See "saveflow <command> --help".' }),
}

/** The sentence that says what `repair` does about a damaged document, or what the user has to choose. */
export const FIX_TEXT = {
  restore: (backup: string, revision: number) =>
    `repair restores backup ${backup} (revision ${revision}); a copy of the current file goes to quarantine.`,
  restoreMissing: (backup: string, revision: number) =>
    `repair restores backup ${backup} (revision ${revision}).`,
  noValidBackup:
    'No valid backup is left. Restore one by hand ("saveflow restore"), or run "saveflow repair --quarantine-unrecoverable" to move the file to quarantine and start this document empty.',
  missingNoValidBackup:
    'The file is gone and no backup verifies. Look in .saveflow/quarantine/ or restore a backup by hand.',
  tooLarge:
    'repair leaves it alone. Raise the size limit, or restore a smaller backup with "saveflow restore".',
  unreadable: (hint: string) => `repair leaves it alone. ${hint}`,
  futureVersion:
    'Update saveflow (or the app) to check it; nothing changes it meanwhile. "saveflow restore" can put an older backup in its place.',
  olderVersion: (from: number, to: number) =>
    `It migrates from schema version ${from} to ${to} on the next load (a backup is taken first).`,
  quarantineBackup: 'repair moves it to .saveflow/quarantine/.',
  keepOnlyBackup:
    'No valid copy of this document is left, so repair keeps it where it is (the app lists it, and it may still be salvaged by hand); "saveflow repair --quarantine-unrecoverable" moves it to .saveflow/quarantine/ and the document starts empty.',
  unusableBackup: 'It cannot be restored by this version; repair leaves it alone.',
  overLimit: (extra: number, keep: number) =>
    `compact removes the ${extra} oldest (the limit is ${keep} per document).`,
  dropCache: 'repair removes it; caches are rebuilt by the app.',
  expiredCache: 'The app drops it on the next load; compact removes it now.',
  unreadableCache: 'The app cannot use it; it is rebuilt once the file can be removed.',
  tempFile: 'A crash left this unfinished write; repair removes it (the saved file beside it is complete).',
  tornTail:
    'repair keeps a copy in quarantine and rewrites the file without it; no acknowledged save is lost.',
  badRecord: (revision: number) =>
    `The app loads the saves before it (up to revision ${revision}); what follows is lost unless a backup has it. Restore a backup ("saveflow restore"), or run "saveflow repair --keep-journal-prefix" to keep what loads (a copy of the damaged file goes to quarantine).`,
  legacyFile: 'The first save (or "saveflow compact") rewrites it as a log.',
  unknownFile: 'saveflow does not use this file and leaves it alone.',
} as const

/** Messages of problems that have no `SaveflowError` behind them. */
export const PROBLEM_TEXT = {
  missingWithBackups: 'The file is missing, but backups of it exist.',
  missingQuarantined: (path: string, reason: string) =>
    `The file is missing, but backups of it exist; it was moved to quarantine as ${path} (${reason}) and not replaced.`,
  olderVersion: 'The file has an older schema version.',
  overLimit: (count: number) => `${count} backups are kept.`,
  expired: (savedAt: string) => `The cache expired (saved ${savedAt}).`,
  tempFile: 'A temp file was left by an interrupted write.',
  tornTail: (bytes: number) =>
    `${bytes} byte(s) at the end are an append a crash cut short (never acknowledged).`,
  legacyFile: 'An earlier version wrote this conversation as one snapshot file.',
  unknownFile: 'A file saveflow does not know.',
} as const
