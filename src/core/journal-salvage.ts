import type { DocumentDefinition } from './documents'
import { companionPaths } from './paths'
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
 * Only a journal quarantined with its snapshot by this repository is considered, and only until the next restore
 * of the document: after that the user has chosen a state, and an older journal must not bring discarded edits back.
 */
export interface JournalSalvage {
  /** Notes a journal moved to quarantine (fed every repository event). */
  note(event: RepositoryEvent): void
  /**
   * The backup snapshot with the quarantined journal replayed on it, or `null` when the journal does not start at it
   * (or there is none, or it cannot be read). The result is raw data: the caller validates it as any load.
   */
  extend(
    key: string,
    definition: DocumentDefinition,
    backup: Snapshot,
  ): Promise<{ snapshot: Snapshot; journalPath: string; records: number; size: number } | null>
  /** Forgets the journal of `key` (a restore completed). */
  forget(key: string): void
}

/** Creates the salvage of one repository. */
export function createJournalSalvage(storage: StorageBackend): JournalSalvage {
  const quarantined = new Map<string, string>()

  return {
    note(event) {
      if (event.type !== 'quarantined') return
      const { journal } = companionPaths(event.key)
      if (journal !== undefined && event.result.from === journal) quarantined.set(event.key, event.result.to)
    },

    async extend(key, definition, backup) {
      const journalPath = quarantined.get(key)
      if (journalPath === undefined || definition.layout !== 'snapshot+journal') return null
      try {
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
    },

    forget(key) {
      quarantined.delete(key)
    },
  }
}
