import { cx } from './cx'

/** A determinate bar when `total` is known, with its label as the accessible name. */
export function ProgressBar({ label, value, total, className }: { label: string; value: number; total: number; className?: string }) {
  const fraction = total > 0 ? Math.min(1, Math.max(0, value / total)) : 0
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={total}
      aria-valuenow={value}
      aria-valuetext={`${Math.round(fraction * 100)}%`}
      className={cx('h-1.5 w-full overflow-hidden rounded bg-neutral-800', className)}
    >
      <div className="h-full bg-sky-500 transition-[width]" style={{ width: `${fraction * 100}%` }} />
    </div>
  )
}
