import type { ReactNode } from 'react'
import { cx } from './cx'

export type Tone = 'neutral' | 'info' | 'good' | 'warn' | 'bad' | 'accent'

const TONES: Record<Tone, string> = {
  neutral: 'border-neutral-700 bg-neutral-800 text-neutral-300',
  info: 'border-sky-900 bg-sky-950 text-sky-200',
  good: 'border-emerald-900 bg-emerald-950 text-emerald-200',
  warn: 'border-amber-900 bg-amber-950 text-amber-200',
  bad: 'border-red-900 bg-red-950 text-red-200',
  accent: 'border-violet-900 bg-violet-950 text-violet-200',
}

export function Badge({ tone = 'neutral', children, title, className }: { tone?: Tone; children: ReactNode; title?: string; className?: string }) {
  return (
    <span title={title} className={cx('inline-flex items-center rounded border px-1 text-[11px] leading-4 whitespace-nowrap', TONES[tone], className)}>
      {children}
    </span>
  )
}
