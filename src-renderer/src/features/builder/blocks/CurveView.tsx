import { useRef, type PointerEvent } from 'react'
import { formatValue } from '../../../app/format'
import type { Block } from './BlockLayout'

const W = 600
const H = 120
const PAD = 8

export interface CurveViewProps {
  label: string
  blocks: readonly Block[]
  values: readonly number[]
  range: { min: number; max: number; step: number }
  /** absent: the curve is shown, not edited (gradient mode) */
  onChange?: (blockId: string, value: number) => void
}

/**
 * The values over block order as a polyline. Dragging paints: the block under the pointer takes the
 * value at the pointer's height, so a stroke across the chart draws a curve. Keyboard users edit the
 * same values with the block sliders.
 */
export function CurveView({ label, blocks, values, range, onChange }: CurveViewProps) {
  const svg = useRef<SVGSVGElement>(null)
  const lo = Math.min(range.min, ...values)
  const hi = Math.max(range.max, ...values)
  const span = hi - lo || 1
  const n = blocks.length
  const x = (i: number): number => PAD + (n <= 1 ? 0 : (i / (n - 1)) * (W - 2 * PAD))
  const y = (v: number): number => PAD + (1 - (v - lo) / span) * (H - 2 * PAD)

  function paint(event: PointerEvent<SVGSVGElement>): void {
    if (!onChange || !svg.current) return
    const box = svg.current.getBoundingClientRect()
    const px = ((event.clientX - box.left) / box.width) * W
    const py = ((event.clientY - box.top) / box.height) * H
    const index = n <= 1 ? 0 : Math.round(((px - PAD) / (W - 2 * PAD)) * (n - 1))
    const block = blocks[Math.min(n - 1, Math.max(0, index))]
    if (!block) return
    const raw = lo + (1 - (py - PAD) / (H - 2 * PAD)) * span
    const snapped = Math.round(raw / range.step) * range.step
    onChange(block.id, Number(Math.min(range.max, Math.max(range.min, snapped)).toPrecision(6)))
  }

  const zero = lo < 0 && hi > 0 ? y(0) : null
  return (
    <svg
      ref={svg}
      role="img"
      aria-label={`${label} over blocks: ${blocks.map((b, i) => `${b.id} ${formatValue(values[i] ?? 0)}`).join(', ')}`}
      viewBox={`0 0 ${W} ${H}`}
      preserveAspectRatio="none"
      className={onChange ? 'h-28 w-full cursor-crosshair touch-none rounded border border-neutral-800 bg-neutral-950' : 'h-20 w-full rounded border border-neutral-800 bg-neutral-950'}
      onPointerDown={(e) => {
        if (!onChange) return
        e.currentTarget.setPointerCapture(e.pointerId)
        paint(e)
      }}
      onPointerMove={(e) => {
        if (e.buttons === 1) paint(e)
      }}
    >
      {[range.min, range.max].map((v) => (
        <line key={v} x1={0} x2={W} y1={y(v)} y2={y(v)} stroke="#404040" strokeDasharray="4 4" vectorEffect="non-scaling-stroke" />
      ))}
      {zero !== null && <line x1={0} x2={W} y1={zero} y2={zero} stroke="#525252" vectorEffect="non-scaling-stroke" />}
      <polyline
        points={values.map((v, i) => `${x(i)},${y(v)}`).join(' ')}
        fill="none"
        stroke={onChange ? '#38bdf8' : '#a78bfa'}
        strokeWidth={1.5}
        strokeDasharray={onChange ? undefined : '5 3'}
        vectorEffect="non-scaling-stroke"
      />
      {values.map((v, i) => (
        <circle key={blocks[i]?.id ?? i} cx={x(i)} cy={y(v)} r={2.5} fill={onChange ? '#7dd3fc' : '#c4b5fd'} />
      ))}
    </svg>
  )
}
