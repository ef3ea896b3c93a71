import { useId, useState } from 'react'
import { formatValue } from '../app/format'
import { inputClass } from './Field'
import { cx } from './cx'

export interface NumberLimits {
  min?: number
  max?: number
  integer?: boolean
}

/** Why `text` is not an acceptable value, or null when it is. */
export function numberProblem(text: string, { min, max, integer }: NumberLimits): string | null {
  if (text.trim() === '') return 'enter a number'
  const value = Number(text)
  if (!Number.isFinite(value)) return `"${text}" is not a number`
  if (integer && !Number.isInteger(value)) return 'must be a whole number'
  if (min !== undefined && value < min) return `must be at least ${min}`
  if (max !== undefined && value > max) return `must be at most ${max}`
  return null
}

export interface NumberInputProps extends NumberLimits {
  label: string
  value: number | null
  onChange(value: number): void
  step?: number
  placeholder?: string
  className?: string
  disabled?: boolean
  /** where the problem text goes; by default under the input */
  describedBy?: string
}

/**
 * A numeric text field that lets the user type freely ("0.", "-") and commits only acceptable
 * values; while the text is not acceptable it says why and keeps the last good value.
 */
export function NumberInput({ label, value, onChange, step, placeholder, className, disabled, min, max, integer }: NumberInputProps) {
  const [draft, setDraft] = useState<string | null>(null)
  const problemId = useId()
  const text = draft ?? (value === null ? '' : formatValue(value))
  const problem = draft === null ? null : numberProblem(draft, { min, max, integer })
  return (
    <span className={cx('relative inline-flex flex-col', className)}>
      <input
        type="number"
        inputMode="decimal"
        aria-label={label}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? problemId : undefined}
        className={cx(inputClass, 'w-full tabular-nums')}
        value={text}
        step={step ?? 'any'}
        min={min}
        max={max}
        placeholder={placeholder}
        disabled={disabled}
        onChange={(e) => {
          const next = e.target.value
          setDraft(next)
          if (numberProblem(next, { min, max, integer }) === null) onChange(Number(next))
        }}
        onBlur={() => setDraft(null)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') setDraft(null)
        }}
      />
      {problem && (
        <span id={problemId} role="alert" className="absolute top-full left-0 z-10 mt-0.5 rounded bg-red-950 px-1 text-[11px] whitespace-nowrap text-red-200">
          {label}: {problem}
        </span>
      )}
    </span>
  )
}

export interface SliderProps extends NumberLimits {
  label: string
  value: number | null
  onChange(value: number): void
  /** the range the slider offers; the number field accepts anything within min/max */
  range: { min: number; max: number; step: number }
  className?: string
  disabled?: boolean
}

/** A slider over the usual range plus an exact number field bounded by the hard limits. */
export function NumberSlider({ label, value, onChange, range, className, disabled, min, max, integer }: SliderProps) {
  const shown = value ?? range.min
  return (
    <div className={cx('flex items-center gap-2', className)}>
      <input
        type="range"
        aria-label={label}
        aria-valuetext={value === null ? 'not set' : formatValue(value)}
        className="min-w-0 flex-1"
        min={range.min}
        max={range.max}
        step={range.step}
        value={Math.min(range.max, Math.max(range.min, shown))}
        disabled={disabled}
        onChange={(e) => onChange(Number(e.target.value))}
      />
      <NumberInput label={label} value={value} onChange={onChange} step={range.step} min={min} max={max} integer={integer} disabled={disabled} className="w-20" />
    </div>
  )
}
