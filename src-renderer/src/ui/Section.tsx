import { useId, type ReactNode } from 'react'
import { cx } from './cx'

/** A titled block of the builder; the heading names the region for screen readers. */
export function Section({ title, actions, children, className }: { title: string; actions?: ReactNode; children: ReactNode; className?: string }) {
  const id = useId()
  return (
    <section aria-labelledby={id} className={cx('border-b border-neutral-800 px-3 py-2.5', className)}>
      <div className="mb-1.5 flex items-center gap-2">
        <h3 id={id} className="flex-1 text-xs font-semibold tracking-wide text-neutral-400 uppercase">
          {title}
        </h3>
        {actions}
      </div>
      {children}
    </section>
  )
}
