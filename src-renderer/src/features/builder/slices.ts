import type { LayerSlice } from '../../../../src-main/common/recipe'

/** Frankenmerge slices are taken when the recipe's method is `passthrough` (docs/RECIPES.md, Frankenmerges). */
export const SLICE_METHOD = 'passthrough'

/**
 * What is wrong with a slice's layer range, or null. `layerCount` is the model's depth when the
 * library knows it; without it only the range itself is checked (the planner checks the rest).
 */
export function sliceProblem(slice: LayerSlice, layerCount?: number): string | null {
  const [from, to] = slice.layers
  if (!Number.isInteger(from) || from < 0) return 'the first layer must be a whole number from 0'
  if (!Number.isInteger(to) || to < 1) return 'the end layer must be a whole number from 1'
  if (from >= to) return `layers ${from}–${to} are empty: the end (exclusive) must be above the first layer`
  if (layerCount !== undefined && to > layerCount) return `the model has ${layerCount} layers: the end (exclusive) can be at most ${layerCount}`
  return null
}

/** The output's depth: the slices' layers stacked; invalid slices count nothing. */
export function totalSliceLayers(slices: readonly LayerSlice[]): number {
  return slices.reduce((sum, s) => sum + (sliceProblem(s) === null ? s.layers[1] - s.layers[0] : 0), 0)
}
