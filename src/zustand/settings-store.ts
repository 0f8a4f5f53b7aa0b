import { createStore, type StoreApi } from 'zustand/vanilla'
import type { PersistenceConfig, RetryConfig, ValidationConfig } from '../core/config'
import { type UserSettings, userSettingsSchema } from '../core/schemas'
import { parseOrThrow } from './store-env'

/**
 * The reference settings store (the seed's `settings-store`): the user's preferences, including the persistence
 * configuration itself (`autoSave`, `saveDebounce`, `backupCount`, ...). Every update is parsed with the `settings`
 * document's schema before it applies: a bad value (a negative debounce, a font size of 500) throws a
 * `SaveflowError` `invalid-data` naming the field, and the store is left exactly as it was. So the store never holds
 * settings that its own document would refuse to save.
 */

/** A partial update: any field may be left out, and the nested groups merge field by field. */
export interface SettingsPatch {
  theme?: UserSettings['theme']
  language?: string
  persistence?: Partial<Omit<PersistenceConfig, 'retry' | 'validation'>> & {
    retry?: Partial<RetryConfig>
    validation?: Partial<ValidationConfig>
  }
  editor?: Partial<UserSettings['editor']>
}

/** The actions of the settings store. */
export interface SettingsActions {
  /** Applies a partial update after validating the result; throws `invalid-data` (store unchanged) if it is invalid. */
  update(patch: SettingsPatch): void
  /** Shorthand for `update({ theme })`. */
  setTheme(theme: UserSettings['theme']): void
  /** Shorthand for `update({ persistence: patch })`. */
  setPersistence(patch: NonNullable<SettingsPatch['persistence']>): void
  /** Shorthand for `update({ editor: patch })`. */
  setEditor(patch: NonNullable<SettingsPatch['editor']>): void
  /** Back to the defaults (`userSettingsSchema.parse({})`). */
  reset(): void
  /** Opens or closes the settings dialog. Transient: never saved. */
  setDialogOpen(open: boolean): void
}

/** The settings store's state: the `settings` document's data, one transient UI flag, and the actions. */
export interface SettingsState extends UserSettings, SettingsActions {
  /** Whether the settings dialog is open. Transient: excluded by {@link settingsOf}. */
  dialogOpen: boolean
}

/** A vanilla settings store; in React read it with `useStore(store, selector)`. */
export type SettingsStore = StoreApi<SettingsState>

/** Options of {@link createSettingsStore}. */
export interface SettingsStoreOptions {
  /** Settings to start from; validated, missing fields take their defaults. @default the defaults */
  initial?: Partial<UserSettings>
}

/** The data fields, read from the schema so that a field added there is persisted without a second list. */
const SETTINGS_KEYS = Object.keys(userSettingsSchema.shape) as (keyof UserSettings)[]

/** The `partialize` of the settings store: its `UserSettings`, without the dialog flag and the actions. */
export function settingsOf(state: SettingsState): UserSettings {
  const data = {} as Record<string, unknown>
  for (const key of SETTINGS_KEYS) data[key] = state[key]
  return data as UserSettings
}

/** Creates a fresh settings store (zustand stores are module singletons otherwise; tests and stories need new ones). */
export function createSettingsStore(options: SettingsStoreOptions = {}): SettingsStore {
  const initial = parseOrThrow(userSettingsSchema, options.initial ?? {})

  return createStore<SettingsState>()((set, get) => {
    /** Validates the whole result, then stores only the top-level fields that really changed (others keep their objects). */
    const apply = (candidate: unknown) => {
      const next = parseOrThrow(userSettingsSchema, candidate)
      const current = settingsOf(get())
      const changed: Partial<UserSettings> = {}
      let any = false
      for (const key of SETTINGS_KEYS) {
        if (!jsonEqual(current[key], next[key])) {
          ;(changed as Record<string, unknown>)[key] = next[key]
          any = true
        }
      }
      if (any) set(changed)
    }

    const update = (patch: SettingsPatch) => {
      const current = settingsOf(get())
      const { persistence, editor, ...top } = patch
      apply({
        ...current,
        ...top,
        persistence:
          persistence === undefined
            ? current.persistence
            : {
                ...current.persistence,
                ...persistence,
                retry: { ...current.persistence.retry, ...persistence.retry },
                validation: { ...current.persistence.validation, ...persistence.validation },
              },
        editor: { ...current.editor, ...editor },
      })
    }

    return {
      ...initial,
      dialogOpen: false,
      update,
      setTheme: (theme) => update({ theme }),
      setPersistence: (persistence) => update({ persistence }),
      setEditor: (editor) => update({ editor }),
      reset: () => apply({}),
      setDialogOpen: (dialogOpen) => set({ dialogOpen }),
    }
  })
}

/** Equality of small JSON values (settings groups): compared only in actions, never on the binding's hot path. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keysA = Object.keys(a)
  if (keysA.length !== Object.keys(b).length) return false
  return keysA.every((key) =>
    jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  )
}
