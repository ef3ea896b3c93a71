import type { BlockInfo } from '../../../../src-main/common/ipc'
import type { NumberValue, StructuredNumber } from '../../../../src-main/common/recipe'
import type { z } from 'zod'

type Block = z.infer<typeof BlockInfo>

/*
 * Editing a NumberValue (a plain number or a StructuredNumber) without losing the parts the edit
 * does not touch. Results are normalised: empty parts are removed and `{ value: x }` alone becomes x.
 */

export type VaryMode = 'off' | 'blocks' | 'gradient'

export function asStructured(value: NumberValue | undefined): StructuredNumber {
  if (value === undefined) return {}
  return typeof value === 'number' ? { value } : value
}

export function normalise(s: StructuredNumber): NumberValue | undefined {
  const out: StructuredNumber = {}
  if (s.value !== undefined) out.value = s.value
  if (s.blocks && Object.keys(s.blocks).length > 0) out.blocks = s.blocks
  if (s.gradient && s.gradient.length > 0) out.gradient = s.gradient
  if (s.keys && s.keys.length > 0) out.keys = s.keys
  const parts = Object.keys(out)
  if (parts.length === 0) return undefined
  if (parts.length === 1 && out.value !== undefined) return out.value
  return out
}

export function globalValue(value: NumberValue | undefined): number | undefined {
  return typeof value === 'number' ? value : value?.value
}

export function withGlobal(value: NumberValue | undefined, next: number | undefined): NumberValue | undefined {
  return normalise({ ...asStructured(value), value: next })
}

/** Per-block values win over a gradient (the recipe's precedence), so that is the mode shown. */
export function varyMode(value: NumberValue | undefined): VaryMode {
  const s = asStructured(value)
  if (s.blocks && Object.keys(s.blocks).length > 0) return 'blocks'
  if (s.gradient && s.gradient.length > 0) return 'gradient'
  return 'off'
}

/** mergekit's rule: anchors spread evenly over [0, 1], linear in between. */
export function gradientAt(anchors: readonly number[], t: number): number {
  if (anchors.length === 1) return anchors[0]!
  const x = Math.min(1, Math.max(0, t)) * (anchors.length - 1)
  const i = Math.min(anchors.length - 2, Math.floor(x))
  const f = x - i
  return anchors[i]! * (1 - f) + anchors[i + 1]! * f
}

/** What each block gets, by the recipe's precedence (blocks > gradient > value > method default). */
export function effectiveBlockValues(value: NumberValue | undefined, blocks: readonly Block[], fallback: number): number[] {
  const s = asStructured(value)
  return blocks.map((b) => s.blocks?.[b.id] ?? (s.gradient ? gradientAt(s.gradient, b.t) : undefined) ?? s.value ?? fallback)
}

/** Switches how the value varies, starting the new mode from what the blocks get now. */
export function withVaryMode(value: NumberValue | undefined, mode: VaryMode, blocks: readonly Block[], fallback: number): NumberValue | undefined {
  const s = asStructured(value)
  const { blocks: _blocks, gradient: _gradient, ...rest } = s
  if (mode === 'off') return normalise(rest)
  if (mode === 'blocks') {
    const current = effectiveBlockValues(value, blocks, fallback)
    return normalise({ ...rest, blocks: Object.fromEntries(blocks.map((b, i) => [b.id, current[i]!])) })
  }
  const base = s.value ?? fallback
  return normalise({ ...rest, gradient: s.gradient ?? [base, base] })
}

export function withBlocks(value: NumberValue | undefined, blocks: Record<string, number>): NumberValue | undefined {
  const { gradient: _gradient, ...rest } = asStructured(value)
  return normalise({ ...rest, blocks })
}

export function withGradient(value: NumberValue | undefined, gradient: number[]): NumberValue | undefined {
  const { blocks: _blocks, ...rest } = asStructured(value)
  return normalise({ ...rest, gradient })
}

export function withKeyRules(value: NumberValue | undefined, keys: { pattern: string; value: number }[]): NumberValue | undefined {
  return normalise({ ...asStructured(value), keys })
}

/** Why a per-key pattern cannot be used, or null: the engine reads these as JavaScript regular expressions. */
export function regexProblem(pattern: string): string | null {
  if (pattern === '') return 'enter a regular expression'
  try {
    new RegExp(pattern)
    return null
  } catch (err) {
    return err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : 'invalid regular expression'
  }
}

/** Block values as supermerger-style text, in block order: "0,0.5,1,...". */
export function blocksToText(values: readonly number[]): string {
  return values.map((v) => String(Number(v.toPrecision(6)))).join(',')
}

/** Parses comma/space separated values; the count must match the blocks. */
export function parseBlocksText(text: string, count: number): { values: number[] } | { problem: string } {
  const parts = text.split(/[\s,]+/).filter(Boolean)
  if (parts.length !== count) return { problem: `expected ${count} values, got ${parts.length}` }
  const values = parts.map(Number)
  const bad = parts.findIndex((p, i) => !Number.isFinite(values[i]) || p === '')
  if (bad >= 0) return { problem: `"${parts[bad]}" is not a number` }
  return { values }
}
