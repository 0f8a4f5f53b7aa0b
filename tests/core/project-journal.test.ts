import { describe, expect, it } from 'vitest'
import {
  encodeJournalBatch,
  encodeJournalStart,
  JOURNAL_FORMAT,
  replayJournal,
} from '../../src/core/project-journal'
import { encodeRecords } from '../../src/core/record-codec'
import { decodeSnapshot, snapshotCodec } from '../../src/core/snapshot-codec'
import { bytesOf, concat } from './support/bytes'
import { sampleProject } from './support/documents'

/** The project journal's replay rules on top of its snapshot. */

const AT = '2026-01-15T10:00:00.000Z'
const project = sampleProject(4)
const snapshotAt = (revision: number, name = 'Demo') =>
  decodeSnapshot(
    snapshotCodec.encode({
      kind: 'project',
      schemaVersion: 1,
      revision,
      savedAt: AT,
      data: { ...project, metadata: { ...project.metadata, name } },
    }),
    'project',
  )
const rename = (name: string, revision: number) =>
  encodeJournalBatch([{ op: 'set', field: 'metadata', value: { ...project.metadata, name } }], revision, AT)
const nameOf = (data: unknown) => (data as typeof project).metadata.name

describe('replayJournal', () => {
  const snapshot = snapshotAt(5)
  const start = encodeJournalStart(snapshot)

  it('applies every batch of a journal that names its snapshot', () => {
    const journal = concat(start, rename('six', 6), rename('seven', 7))
    const read = replayJournal(snapshot, journal)
    expect(nameOf(read.data)).toBe('seven')
    expect(read).toMatchObject({ revision: 7, belongs: true, records: 3, end: journal.length, tornBytes: 0 })
    expect(read.damage).toBeNull()
  })

  it('reads the snapshot alone, to be reset, when there is no journal', () => {
    expect(replayJournal(snapshot, null)).toMatchObject({ data: snapshot.data, revision: 5, belongs: false })
  })

  it('skips a stale journal (a crash between a compaction and its reset) whose saves are in the snapshot', () => {
    const older = snapshotAt(3)
    const stale = concat(encodeJournalStart(older), rename('four', 4), rename('five', 5))
    const read = replayJournal(snapshotAt(5, 'five'), stale)
    expect(read).toMatchObject({ revision: 5, belongs: false, damage: null })
    expect(nameOf(read.data)).toBe('five')
  })

  it('never places a stale journal save above the snapshot: it is damage, reported with its line', () => {
    const stale = concat(encodeJournalStart(snapshotAt(3)), rename('four', 4), rename('six', 6))
    const read = replayJournal(snapshot, stale)
    expect(nameOf(read.data)).toBe('Demo')
    expect(read.belongs).toBe(false)
    expect(read.damage).toMatchObject({ reason: 'stale-journal', line: 3, recordsAfter: 0 })
  })

  it('tells a snapshot of the same revision but other content by its checksum', () => {
    const journal = concat(encodeJournalStart(snapshotAt(5, 'other')), rename('six', 6))
    expect(replayJournal(snapshot, journal)).toMatchObject({ belongs: false, revision: 5 })
  })

  it('ignores a torn tail and reports its size', () => {
    const whole = concat(start, rename('six', 6))
    const torn = concat(whole, rename('seven', 7).subarray(0, 30))
    expect(replayJournal(snapshot, torn)).toMatchObject({ revision: 6, end: whole.length, tornBytes: 30 })
  })

  it('undoes a batch whose patch cannot apply and stops there', () => {
    const bad = encodeJournalBatch(
      [
        { op: 'set', field: 'metadata', value: { ...project.metadata, name: 'half' } },
        { op: 'remove', id: 'no-such-node' },
      ],
      6,
      AT,
    )
    const read = replayJournal(snapshot, concat(start, bad, rename('seven', 7)))
    expect(nameOf(read.data)).toBe('Demo')
    expect(read).toMatchObject({ revision: 5, belongs: false, damage: { reason: 'bad-patch', line: 2 } })
  })

  it('reports a journal without a readable header as damage, and a newer format as future-version', () => {
    const headless = concat(rename('six', 6), rename('seven', 7))
    expect(replayJournal(snapshot, headless).damage).toMatchObject({ reason: 'bad-header', line: 1 })
    expect(replayJournal(snapshot, bytesOf('{"len":3,"crc"'))).toMatchObject({ tornBytes: 14, damage: null })
    const future = encodeRecords([
      { op: 'journal', format: JOURNAL_FORMAT + 1, kind: 'project', rev: 5, at: AT },
    ])
    expect(() => replayJournal(snapshot, future)).toThrow(expect.objectContaining({ code: 'future-version' }))
  })
})
