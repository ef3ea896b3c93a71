import { useId, useRef, type KeyboardEvent, type ReactNode } from 'react'
import { cx } from './cx'

export interface TabItem<T extends string> {
  id: T
  label: ReactNode
}

/** WAI-ARIA tabs: arrow keys move between tabs, the panel is labelled by its tab. */
export function Tabs<T extends string>({ label, tabs, current, onSelect, children, className }: { label: string; tabs: readonly TabItem<T>[]; current: T; onSelect(id: T): void; children: ReactNode; className?: string }) {
  const base = useId()
  const listRef = useRef<HTMLDivElement>(null)
  function onKeyDown(event: KeyboardEvent): void {
    const index = tabs.findIndex((t) => t.id === current)
    const delta = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0
    if (delta === 0) return
    event.preventDefault()
    const next = tabs[(index + delta + tabs.length) % tabs.length]
    if (!next) return
    onSelect(next.id)
    listRef.current?.querySelector<HTMLElement>(`#${CSS.escape(`${base}-tab-${next.id}`)}`)?.focus()
  }
  return (
    <div className={cx('flex min-h-0 flex-col', className)}>
      <div ref={listRef} role="tablist" aria-label={label} className="flex shrink-0 gap-0.5 border-b border-neutral-800 px-2" onKeyDown={onKeyDown}>
        {tabs.map((tab) => (
          <button
            key={tab.id}
            id={`${base}-tab-${tab.id}`}
            type="button"
            role="tab"
            aria-selected={tab.id === current}
            aria-controls={`${base}-panel`}
            tabIndex={tab.id === current ? 0 : -1}
            onClick={() => onSelect(tab.id)}
            className={cx(
              '-mb-px border-b-2 px-2.5 py-1.5 text-[13px]',
              tab.id === current ? 'border-sky-500 text-neutral-100' : 'border-transparent text-neutral-400 hover:text-neutral-200',
            )}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div id={`${base}-panel`} role="tabpanel" aria-labelledby={`${base}-tab-${current}`} className="flex min-h-0 flex-1 flex-col">
        {children}
      </div>
    </div>
  )
}
