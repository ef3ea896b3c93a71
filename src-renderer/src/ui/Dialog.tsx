import { useId, useLayoutEffect, useRef, type KeyboardEvent, type ReactNode } from 'react'
import { cx } from './cx'

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

export interface DialogProps {
  title: string
  onClose(): void
  children: ReactNode
  /** 'side' docks it to the right edge as a drawer */
  placement?: 'center' | 'side'
  footer?: ReactNode
  className?: string
}

/**
 * A modal dialog on the native <dialog>: showModal makes the page behind inert; Tab is kept inside,
 * Escape closes, and focus goes back where it was when the dialog goes away. The element marked
 * `data-autofocus` gets the focus first.
 */
export function Dialog({ title, onClose, children, placement = 'center', footer, className }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()

  useLayoutEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    const previous = document.activeElement
    dialog.showModal()
    // showModal focuses the first focusable element (the Close button); a dialog may name a better start
    dialog.querySelector<HTMLElement>('[data-autofocus]')?.focus()
    return () => {
      dialog.close()
      if (previous instanceof HTMLElement) previous.focus()
    }
  }, [])

  function onKeyDown(event: KeyboardEvent<HTMLDialogElement>): void {
    if (event.key !== 'Tab' || !ref.current) return
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)]
    const first = items[0]
    const last = items[items.length - 1]
    if (!first || !last) return
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault()
      last.focus()
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault()
      first.focus()
    }
  }

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault()
        onClose()
      }}
      onKeyDown={onKeyDown}
      className={cx(
        'flex-col border border-neutral-700 bg-neutral-900 p-0 text-neutral-200 shadow-2xl backdrop:bg-black/60 open:flex',
        placement === 'side' ? 'mt-0 mr-0 ml-auto h-full max-h-full w-[520px] max-w-[90vw]' : 'm-auto max-h-[85vh] w-[560px] max-w-[92vw] rounded-md',
        className,
      )}
    >
      <header className="flex items-center gap-2 border-b border-neutral-800 px-3 py-2">
        <h2 id={titleId} className="min-w-0 flex-1 truncate text-sm font-semibold">
          {title}
        </h2>
        <button type="button" aria-label="Close" className="rounded px-1.5 text-lg leading-none text-neutral-400 hover:bg-neutral-800 hover:text-neutral-100" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="min-h-0 flex-1 overflow-auto p-3">{children}</div>
      {footer && <footer className="flex justify-end gap-2 border-t border-neutral-800 px-3 py-2">{footer}</footer>}
    </dialog>
  )
}
