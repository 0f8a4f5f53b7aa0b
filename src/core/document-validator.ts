import { changeCheckKind, checkChange } from './change-check'
import { invalidData } from './document-reader'
import type { DocumentDefinition } from './documents'
import { SaveflowError } from './errors'
import type { DocumentPatch } from './journal-store'

/**
 * The repository's validation, with a memory per document so that a save of the project or of a conversation costs
 * about the change (see `change-check.ts`). For each key it keeps the newest data known valid: what was loaded or
 * restored (parsed whole by the load), or what the last validation accepted. The next validation diffs against it
 * by reference and parses only what differs; when that cannot prove the data valid, or there is no such data yet
 * (the first save of a new document), the document is parsed whole, as every other kind always is.
 *
 * A rewrite (the document written whole in place of an append, after a failed write or a repair) of data that was
 * only checked by its change parses it whole first ({@link DocumentValidator.checkWhole}), which is cheap there. A
 * compaction does not: it writes the state its saves appended, each change checked on its way in, and a whole parse
 * would double its cost; data changed in place against the contract is the caller's bug, which no diff can see.
 */

/** What a validation found: the patches from `base` to the data, for the write to append without diffing again. */
export interface ValidatedChange {
  base: unknown
  patches: readonly DocumentPatch[]
}

/** The repository's validation of documents. */
export interface DocumentValidator {
  /** The data to write for `data`, or throws `invalid-data` listing the issues. */
  validate(key: string, data: unknown): unknown
  /** True for an object `validate` returned: saving it again needs no second check. */
  isValidated(data: unknown): boolean
  /** The change `validate` found to reach `data`, when it checked only that. */
  changeOf(data: unknown): ValidatedChange | undefined
  /** Data of `key` that was parsed whole elsewhere (a load, a restore): the base of the next validation. */
  trust(key: string, data: unknown): void
  /**
   * Before a rewrite of the document: `data` as it may be written. Parses it whole unless that already happened to
   * this very object; throws `invalid-data` when it does not validate (it was changed in place).
   */
  checkWhole(key: string, definition: DocumentDefinition, data: unknown): unknown
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null

/** Options of {@link createDocumentValidator}. */
export interface DocumentValidatorOptions {
  /**
   * The seed's `validation.strict`: data with a field its schema does not know is refused (`invalid-data`, reason
   * `unknown-key`) instead of being saved without it. @default false (unknown fields are stripped)
   */
  strict?: boolean
}

/** Creates the validation of one repository. */
export function createDocumentValidator(
  definitionFor: (key: string) => DocumentDefinition,
  options: DocumentValidatorOptions = {},
): DocumentValidator {
  /** Objects returned by `validate`: saving them again skips a second check of the same (possibly 20 MB) data. */
  const validated = new WeakSet<object>()
  /** Objects that passed their whole schema (not only a check of their change). */
  const whole = new WeakSet<object>()
  /** Per key whose changes can be checked alone: the newest data known valid, the base of the next check. */
  const trusted = new Map<string, object>()
  const changes = new WeakMap<object, ValidatedChange>()

  function parseWhole(key: string, definition: DocumentDefinition, data: unknown): unknown {
    const parsed = definition.schema.safeParse(data)
    if (!parsed.success) {
      // The base may be the very object that failed (changed in place): the next check starts from scratch.
      if (trusted.get(key) === data) trusted.delete(key)
      throw invalidData(parsed.error)
    }
    if (options.strict === true) {
      // zod strips what its object schemas do not name; strict mode refuses that data instead of losing a field.
      const unknown = unknownKey(data, parsed.data)
      if (unknown !== null) {
        if (trusted.get(key) === data) trusted.delete(key)
        throw new SaveflowError('invalid-data', {
          message: `The data has a field its schema does not know, at "${unknown}"; strict validation refuses it.`,
          details: {
            reason: 'unknown-key',
            issues: [{ path: unknown, message: 'Unknown field' }],
            issueCount: 1,
          },
        })
      }
    }
    if (isObject(parsed.data)) whole.add(parsed.data)
    return parsed.data
  }

  return {
    validate(key, data) {
      const definition = definitionFor(key)
      const kind = changeCheckKind(definition)
      const base = kind === null ? undefined : trusted.get(key)
      if (base !== undefined && isObject(data)) {
        if (data === base) return data
        const patches = checkChange(kind!, base, data)
        if (patches !== null) {
          validated.add(data)
          // Only the newest change is kept: the base's own change would hold the version before it, and so on, a
          // chain through the WeakMap that keeps every version of the document alive (10,000 saves: +11 MB).
          changes.delete(base)
          changes.set(data, { base, patches })
          trusted.set(key, data)
          return data
        }
      }
      const checked = parseWhole(key, definition, data)
      if (isObject(checked)) {
        validated.add(checked)
        if (kind !== null) trusted.set(key, checked)
      }
      return checked
    },
    isValidated: (data) => isObject(data) && validated.has(data),
    changeOf: (data) => (isObject(data) ? changes.get(data) : undefined),
    trust(key, data) {
      if (!isObject(data)) return
      whole.add(data)
      if (changeCheckKind(definitionFor(key)) !== null) trusted.set(key, data)
    },
    checkWhole(key, definition, data) {
      if (!isObject(data) || whole.has(data)) return data
      const checked = parseWhole(key, definition, data)
      // Change-checked data is exactly its validated form unless it was changed in place; even then, what the
      // parse accepted is valid, as the built-in schemas have no defaults or transforms (at most a key a load would
      // strip). It is written as it is, so its parts stay shared with the caller's state and the next save still
      // diffs by reference. Data of any other schema is written as parsed.
      if (changeCheckKind(definition) === null) return checked
      whole.add(data)
      return data
    },
  }
}

/**
 * The path of the first field of `input` that the parse dropped from `output` (zod strips unknown keys), or null.
 * Walks both values side by side; a field whose value is `undefined` counts as absent, as in JSON.
 */
function unknownKey(input: unknown, output: unknown, path = ''): string | null {
  if (Array.isArray(input) && Array.isArray(output)) {
    for (let i = 0; i < input.length && i < output.length; i++) {
      const found = unknownKey(input[i], output[i], `${path}${path === '' ? '' : '.'}${i}`)
      if (found !== null) return found
    }
    return null
  }
  if (!isObject(input) || !isObject(output) || Array.isArray(input) || Array.isArray(output)) return null
  const kept = output as Record<string, unknown>
  for (const [field, value] of Object.entries(input)) {
    const at = path === '' ? field : `${path}.${field}`
    if (!(field in kept)) {
      if (value !== undefined) return at
      continue
    }
    const found = unknownKey(value, kept[field], at)
    if (found !== null) return found
  }
  return null
}
