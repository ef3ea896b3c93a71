import type { CallError } from '../app/call'
import { cx } from './cx'

/** An error where the user acted: announced once (role=alert), dismissible when the caller allows it. */
export function InlineError({ error, onDismiss, className }: { error: CallError | string | null; onDismiss?: () => void; className?: string }) {
  if (error === null) return null
  const message = typeof error === 'string' ? error : error.message
  return (
    <div role="alert" className={cx('flex items-start gap-2 rounded border border-red-900 bg-red-950/60 px-2 py-1 text-xs text-red-200', className)}>
      <span className="min-w-0 flex-1 break-words">{message}</span>
      {onDismiss && (
        <button type="button" aria-label="Dismiss error" className="text-red-300 hover:text-red-100" onClick={onDismiss}>
          ×
        </button>
      )}
    </div>
  )
}
