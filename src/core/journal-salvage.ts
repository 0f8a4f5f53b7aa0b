import type { DocumentDefinition } from './documents'
import { companionPaths, documentPath } from './paths'
import { replayJournal } from './project-journal'
import type { RepositoryEvent } from './repository-types'
import type { Snapshot } from './snapshot-codec'
import type { StorageBackend } from './storage'

/**
 * Saves that outlive a damaged `project.json`. The project is a snapshot plus a journal of the saves since it; when
 * the snapshot is damaged, recovery moves both to quarantine and opens the newest backup. Alone, that backup is
 * older than the journal: every save the journal holds would be lost, although those records are intact and
 * checksummed. But the journal names the snapshot it starts from, by revision and checksum, and interval backups
 * are written from that same state. So when the backup being opened is exactly the journal's base, replaying the
 * journal on it gives back every acknowledged save, just as a normal load of snapshot and journal would.
 *
 * Scenario A: the journal starts at this backup (same revision, same data checksum): its whole saves are replayed,
 * a torn tail is ignored, damage in the middle stops the replay at the last whole save (the same rules as a load).
 * Scenario B: it starts elsewhere (an older snapshot, a compaction in between): nothing of it applies; the backup
 * opens as it is. The journal stays in quarantine either way: salvage only reads.
 *
 * Only a journal quarantined with its snapshot by this repository is considered (or, while that snapshot is gone,
 * the journal still at its own path because its own move failed), and only until the next restore
 * of the document: after that the user has chosen a state, and an older journal must not bring discarded edits back.
 */
export interface JournalSalvage {
  /** Notes a journal moved to quarantine (fed every repository event). */
  note(event: RepositoryEvent): void
  /**
   * The backup snapshot with the quarantined journal replayed on it, or `null` when the journal does not start at it
   * (or there is none, or it cannot be read). The result is raw data: the caller validates it as any load.
   * `reuse`: give the decision last made on this same backup instead of reading the journal again (a restore, so
   * that it writes exactly what the read before it verified).
   */
  extend(
    key: string,
    definition: DocumentDefinition,
    backup: Snapshot,
    options?: { reuse?: boolean },
  ): Promise<Salvaged | null>
  /** Forgets the journal of `key` (a restore completed). */
  forget(key: string): void
}

/** A backup with the quarantined journal replayed on it. */
export interface Salvaged {
  snapshot: Snapshot
  journalPath: string
  records: number
  size: number
}

/** Creates the salvage of one repository. */
export function createJournalSalvage(storage: StorageBackend): JournalSalvage {
  const quarantined = new Map<string, string>()
  /** Keys whose snapshot went to quarantine while the journal has not (yet): the journal is still at its path. */
  const orphaned = new Map<string, string>()
  /**
   * The last decision per key, for the backup it was made on. A restore follows the read that verified the backup
   * (`{ reuse: true }`): reading the journal again could give another answer (a read that failed once, then not),
   * and the document on disk would then differ from the one the load reported.
   */
  const decided = new Map<string, { backup: Snapshot; result: Salvaged | null }>()

  return {
    note(event) {
      if (event.type !== 'quarantined') return
      const { journal } = companionPaths(event.key)
      if (journal === undefined) return
      if (event.result.from === journal) {
        quarantined.set(event.key, event.result.to)
        decided.delete(event.key)
      } else if (event.result.from === documentPath(event.key)) {
        orphaned.set(event.key, journal)
      }
    },

    async extend(key, definition, backup, options = {}) {
      const last = decided.get(key)
      if (
        options.reuse === true &&
        last?.backup.revision === backup.revision &&
        last.backup.checksum === backup.checksum
      ) {
        return last.result
      }
      const result = await replayOn(key, definition, backup)
      decided.set(key, { backup, result })
      return result
    },

    forget(key) {
      quarantined.delete(key)
      orphaned.delete(key)
      decided.delete(key)
    },
  }

  async function replayOn(key: string, definition: DocumentDefinition, backup: Snapshot) {
    if (definition.layout !== 'snapshot+journal') return null
    try {
      const journalPath = quarantined.get(key) ?? (await orphanJournal(key, orphaned.get(key)))
      if (journalPath === undefined) return null
      const stat = await storage.stat(journalPath)
      if (stat === null || stat.isDirectory || stat.size > definition.maxBytes) return null
      const bytes = await storage.read(journalPath, { maxBytes: definition.maxBytes })
      const replay = replayJournal(backup, bytes)
      if (replay.revision <= backup.revision) return null
      const snapshot = { ...backup, revision: replay.revision, savedAt: replay.savedAt, data: replay.data }
      return { snapshot, journalPath, records: replay.records, size: bytes.length }
    } catch {
      // A journal that cannot be read (or is from a newer format) adds nothing: the backup opens as it is.
      return null
    }
  }

  /**
   * The journal still at its own path after its snapshot was moved to quarantine (the journal's own move failed):
   * while the snapshot is gone, it is the journal that went with it, and it still names the snapshot it starts from.
   */
  async function orphanJournal(key: string, journal: string | undefined): Promise<string | undefined> {
    if (journal === undefined || (await storage.stat(documentPath(key))) !== null) return undefined
    return journal
  }
}
