import { fromPromise } from 'xstate'
import { SaveflowError, toSaveflowError } from './errors'
import type { ValidateFn, WriteFn } from './save-coordinator'
import type { SaveFailure, SaveValidateInput, SaveWriteInput, SaveWriteOutput } from './save-protocol'

/** What {@link createSaveActors} needs: the user's functions and the two impure sources the machines may not touch. */
export interface SaveActorsOptions {
  write: WriteFn
  /** @default accepts everything */
  validate?: ValidateFn | undefined
  /** Whether a document's data is validated before it is written. @default always */
  shouldValidate?: (key: string) => boolean
  /** Current time in ms; must agree with the actor clock. */
  now: () => number
  /** Jitter source in [0, 1). */
  random: () => number
}

/**
 * The `validate` and `write` actors of the save machine, wrapping user code. They are where the impure parts live:
 * the thrown value is classified into {@link SaveflowError} data (so the machine branches on a plain `retry` field),
 * the time is stamped and the jitter drawn. The write receives the AbortSignal of its actor: stopping the save actor,
 * or leaving `writing` for read-only mode, aborts it.
 */
export function createSaveActors(options: SaveActorsOptions) {
  const { now, random } = options
  const failure = (error: SaveflowError): SaveFailure => ({
    error: error.toJSON(),
    at: now(),
    jitter: random(),
  })

  return {
    validate: fromPromise<unknown, SaveValidateInput>(async ({ input }) => {
      if (options.validate === undefined || options.shouldValidate?.(input.key) === false) return input.data
      try {
        return await options.validate(input)
      } catch (error) {
        // Whatever a validator throws means "this data must not be written".
        const classified =
          error instanceof SaveflowError ? error : new SaveflowError('invalid-data', { cause: error })
        throw failure(classified)
      }
    }),
    write: fromPromise<SaveWriteOutput, SaveWriteInput>(async ({ input, signal }) => {
      const startedAt = now()
      try {
        const result = await options.write({ ...input, signal })
        return { bytes: result.bytes, startedAt, finishedAt: now() }
      } catch (error) {
        throw failure(toSaveflowError(error))
      }
    }),
  }
}
