import { useState } from 'react'
import type { Result } from '../../../src-main/common/ipc'
import type { CallError } from './call'

export interface Action<A extends unknown[], T> {
  /** runs the call; resolves to its value, or null when it failed (the error is then in `error`) */
  run(...args: A): Promise<T | null>
  readonly pending: boolean
  readonly error: CallError | null
  clearError(): void
}

/** A user action that calls main: pending while it runs, and its error kept for showing where the user acted. */
export function useAction<A extends unknown[], T>(fn: (...args: A) => Promise<Result<T>>): Action<A, T> {
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<CallError | null>(null)
  async function run(...args: A): Promise<T | null> {
    setPending(true)
    setError(null)
    try {
      const result = await fn(...args)
      if (result.ok) return result.value
      setError(result.error)
      return null
    } finally {
      setPending(false)
    }
  }
  return { run, pending, error, clearError: () => setError(null) }
}
