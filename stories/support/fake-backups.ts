import type { BackupInfo, BackupsAdapter } from '../../src/react/index'
import type { StoryClock } from './story-clock'

/** A backup the fake adapter holds, with the text its preview shows. */
export interface FakeBackup extends BackupInfo {
  text: string
}

/** A backups adapter over a list in memory, with the calls it received (to check what a dialog asked for). */
export interface FakeBackups extends BackupsAdapter {
  readonly calls: readonly string[]
}

/**
 * Backups for the recovery stories until the repository's backups are wired in. Restoring adds a backup of the
 * replaced version first, as the real repository does, so a restore can be undone.
 */
export function createFakeBackups(clock: StoryClock, initial: readonly FakeBackup[]): FakeBackups {
  let backups = [...initial]
  const calls: string[] = []
  let current = { revision: 0, text: '' }
  // A little latency, on real time: the dialog must cope with lists and previews that are not there at once.
  const later = <T>(value: () => T) => new Promise<T>((resolve) => setTimeout(() => resolve(value()), 30))
  return {
    calls,
    list(key) {
      calls.push(`list ${key}`)
      return later(() => backups.map(({ text: _text, ...info }) => info))
    },
    preview(key, id) {
      calls.push(`preview ${key} ${id}`)
      return later(() => {
        const backup = backups.find((b) => b.id === id)
        if (backup === undefined || backup.damaged === true) throw new Error('unreadable backup')
        return { text: backup.text }
      })
    },
    restore(key, id) {
      calls.push(`restore ${key} ${id}`)
      return later(() => {
        const backup = backups.find((b) => b.id === id)
        if (backup === undefined || backup.damaged === true) throw new Error('unreadable backup')
        const undo: FakeBackup = {
          id: `undo-${calls.length}`,
          savedAt: clock.now(),
          revision: current.revision,
          bytes: current.text.length,
          text: current.text,
        }
        backups = [undo, ...backups]
        current = { revision: backup.revision, text: backup.text }
        return { undoId: undo.id }
      })
    },
  }
}
