import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react'
import { cx } from './cx'

export const inputClass =
  'h-7 rounded border border-neutral-700 bg-neutral-950 px-1.5 text-[13px] text-neutral-100 placeholder:text-neutral-500 focus:border-sky-500 aria-[invalid=true]:border-red-600 disabled:opacity-50'

export function Label({ htmlFor, children, className }: { htmlFor: string; children: ReactNode; className?: string }) {
  return (
    <label htmlFor={htmlFor} className={cx('text-xs text-neutral-400', className)}>
      {children}
    </label>
  )
}

export interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'value'> {
  label: string
  value: string
  onChange(value: string): void
  /** shown under the field and linked to it (aria-describedby); an error also marks it invalid */
  hint?: ReactNode
  error?: string | null
  hideLabel?: boolean
  inputClassName?: string
}

export function TextField({ label, value, onChange, hint, error, hideLabel, className, inputClassName, id, ...rest }: TextFieldProps) {
  const autoId = useId()
  const inputId = id ?? autoId
  const noteId = `${inputId}-note`
  return (
    <div className={cx('flex min-w-0 flex-col gap-0.5', className)}>
      <Label htmlFor={inputId} className={hideLabel ? 'sr-only' : undefined}>
        {label}
      </Label>
      <input
        id={inputId}
        className={cx(inputClass, inputClassName)}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={error || hint ? noteId : undefined}
        onChange={(e) => onChange(e.target.value)}
        {...rest}
      />
      {(error || hint) && (
        <span id={noteId} className={cx('text-[11px]', error ? 'text-red-300' : 'text-neutral-500')}>
          {error ?? hint}
        </span>
      )}
    </div>
  )
}

export interface SelectFieldProps extends Omit<SelectHTMLAttributes<HTMLSelectElement>, 'onChange' | 'value'> {
  label: string
  value: string
  onChange(value: string): void
  options: readonly { value: string; label: string; group?: string }[]
  hint?: ReactNode
  hideLabel?: boolean
}

export function SelectField({ label, value, onChange, options, hint, hideLabel, className, id, ...rest }: SelectFieldProps) {
  const autoId = useId()
  const selectId = id ?? autoId
  const groups = [...new Set(options.map((o) => o.group))]
  const render = (list: typeof options) =>
    list.map((o) => (
      <option key={o.value} value={o.value}>
        {o.label}
      </option>
    ))
  return (
    <div className={cx('flex min-w-0 flex-col gap-0.5', className)}>
      <Label htmlFor={selectId} className={hideLabel ? 'sr-only' : undefined}>
        {label}
      </Label>
      <select id={selectId} className={inputClass} value={value} aria-describedby={hint ? `${selectId}-note` : undefined} onChange={(e) => onChange(e.target.value)} {...rest}>
        {groups.map((group) =>
          group === undefined ? (
            render(options.filter((o) => o.group === undefined))
          ) : (
            <optgroup key={group} label={group}>
              {render(options.filter((o) => o.group === group))}
            </optgroup>
          ),
        )}
      </select>
      {hint && (
        <span id={`${selectId}-note`} className="text-[11px] text-neutral-500">
          {hint}
        </span>
      )}
    </div>
  )
}

/** An on/off setting: a button with role=switch, operated by click, Space or Enter. */
export function Switch({ label, checked, onChange, description, disabled }: { label: string; checked: boolean; onChange(checked: boolean): void; description?: string; disabled?: boolean }) {
  const id = useId()
  return (
    <div className="flex items-start gap-2">
      <button
        id={id}
        type="button"
        role="switch"
        aria-checked={checked}
        aria-label={label}
        aria-describedby={description ? `${id}-desc` : undefined}
        disabled={disabled}
        onClick={() => onChange(!checked)}
        className={cx(
          'relative mt-0.5 h-4 w-7 shrink-0 rounded-full border transition-colors disabled:opacity-50',
          checked ? 'border-sky-500 bg-sky-600' : 'border-neutral-600 bg-neutral-800',
        )}
      >
        <span className={cx('absolute top-0.5 h-2.5 w-2.5 rounded-full bg-white transition-all', checked ? 'left-3.5' : 'left-0.5')} />
      </button>
      <div className="min-w-0">
        <label htmlFor={id} className="text-[13px] text-neutral-200">
          {label}
        </label>
        {description && (
          <p id={`${id}-desc`} className="text-[11px] text-neutral-500">
            {description}
          </p>
        )}
      </div>
    </div>
  )
}
