import { documentLabel } from '../workspace'
import { useExternalList, useWorkspace } from '../workspace-context'

/** Documents that could not be read (permission denied, I/O error): nothing is written until they load. */
export function LoadProblems() {
  const { session, stores, loadProblems } = useWorkspace()
  const problems = useExternalList(loadProblems)
  if (problems.length === 0) return null

  const retry = async (key: string) => {
    const result = await session.result(key)
    if (result.status === 'failed') await result.retry()
  }

  return (
    <div className="banner" role="alert">
      {problems.map(({ key, error }) => (
        <p key={key}>
          <strong>{documentLabel(stores, key)} could not be opened.</strong> {error.message} {error.hint}{' '}
          <button type="button" onClick={() => void retry(key)}>
            Try again
          </button>
        </p>
      ))}
    </div>
  )
}
