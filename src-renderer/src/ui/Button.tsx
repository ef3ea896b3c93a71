import type { ButtonHTMLAttributes } from 'react'
import { cx } from './cx'

type Variant = 'default' | 'primary' | 'ghost' | 'danger'

const VARIANTS: Record<Variant, string> = {
  default: 'border border-neutral-700 bg-neutral-800 text-neutral-100 hover:bg-neutral-700',
  primary: 'border border-sky-500 bg-sky-600 text-white hover:bg-sky-500',
  ghost: 'border border-transparent text-neutral-300 hover:bg-neutral-800 hover:text-neutral-100',
  danger: 'border border-red-800 bg-red-950 text-red-200 hover:bg-red-900',
}

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: Variant
  size?: 'sm' | 'md'
}

export function Button({ variant = 'default', size = 'md', className, type = 'button', ...rest }: ButtonProps) {
  return (
    <button
      type={type}
      className={cx(
        'inline-flex items-center justify-center gap-1 rounded whitespace-nowrap transition-colors disabled:cursor-not-allowed disabled:opacity-45',
        size === 'sm' ? 'h-6 px-1.5 text-xs' : 'h-7 px-2.5 text-[13px]',
        VARIANTS[variant],
        className,
      )}
      {...rest}
    />
  )
}
