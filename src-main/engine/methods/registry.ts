import { AmalgamError } from '../errors'
import type { MethodDeclaration } from './types'
import { weightedSum } from './weighted-sum'
// -- imports: elementwise arithmetic
import { add } from './add'
import { addDifference } from './add-difference'
import { clamp } from './clamp'
import { dropout } from './dropout'
import { geometricSum } from './geometric-sum'
import { linear } from './linear'
import { multiplyQuotient } from './multiply-quotient'
import { scale } from './scale'
import { smoothAddDifference } from './smooth-add-difference'
import { subtract } from './subtract'
import { sumTwice } from './sum-twice'
import { tensorSum } from './tensor-sum'
import { trainDifference } from './train-difference'
import { tripleSum } from './triple-sum'
// -- imports: reductions (spherical, cosine, projections, model stock)
import { addCosine } from './add-cosine'
import { extract } from './extract'
import { modelStock } from './model-stock'
import { addPerpendicular, perpendicularComponent } from './perpendicular'
import { slerp } from './slerp'
// -- imports: selection (TIES, DARE, GTA family)
import { gta } from './gta'
import { tiesSum } from './ties-sum'
import { tiesSumWithDropout } from './ties-sum-with-dropout'
// -- imports: wave 2, elementwise
import { addOpposite } from './add-opposite'
import { enhancedInterp } from './enhanced-interp'
import { euclideanAddDifference } from './euclidean-add-difference'
import { interpDifference } from './interp-difference'
import { mehTiesAddDifference } from './meh-ties-add-difference'
import { multiplyDifference } from './multiply-difference'
import { nearswap } from './nearswap'
import { plusRandom } from './plus-random'
import { powerUp } from './power-up'
import { similarityAddDifference } from './similarity-add-difference'
import { topKTensorSum } from './top-k-tensor-sum'
import { weightSumCutoff } from './weight-sum-cutoff'
import { weightedSubtraction } from './weighted-subtraction'
// -- imports: wave 2, spherical / soup / frequency
import { arceeFusion } from './arcee-fusion'
import { crossover } from './crossover'
import { distributionCrossover } from './distribution-crossover'
import { geometricMedian } from './geometric-median'
import { karcher } from './karcher'
import { multislerp } from './multislerp'
import { nuslerp } from './nuslerp'
import { ram } from './ram'
import { sce } from './sce'
// -- imports: wave 2, linear algebra
import { rotate } from './rotate'
import { truncateRank } from './truncate-rank'
// -- imports: wave 2, whole-model
import { supermergerCosine } from './supermerger-cosine'

/** Every merge method, explicitly. Adding a method = one module + one line here. */
export const METHODS: readonly MethodDeclaration[] = [
  // elementwise arithmetic
  weightedSum,
  linear,
  addDifference,
  sumTwice,
  tripleSum,
  trainDifference,
  geometricSum,
  multiplyQuotient,
  clamp,
  tensorSum,
  scale,
  add,
  subtract,
  dropout,
  smoothAddDifference,
  // reductions (spherical, cosine, projections, model stock)
  slerp,
  addCosine,
  extract,
  modelStock,
  perpendicularComponent,
  addPerpendicular,
  // selection (TIES, DARE, GTA family)
  tiesSum,
  gta,
  tiesSumWithDropout,
  // wave 2, elementwise
  weightedSubtraction,
  nearswap,
  addOpposite,
  multiplyDifference,
  euclideanAddDifference,
  similarityAddDifference,
  plusRandom,
  powerUp,
  mehTiesAddDifference,
  interpDifference,
  enhancedInterp,
  weightSumCutoff,
  topKTensorSum,
  // wave 2, spherical / soup / frequency
  ram,
  geometricMedian,
  nuslerp,
  multislerp,
  karcher,
  sce,
  arceeFusion,
  crossover,
  distributionCrossover,
  // wave 2, linear algebra
  rotate,
  truncateRank,
  // wave 2, whole-model
  supermergerCosine,
]

export interface ResolvedMethod {
  readonly method: MethodDeclaration
  /** parameters fixed by the alias the user wrote (e.g. slerp_mergekit → variant mergekit) */
  readonly fixedParams: Readonly<Record<string, string | number | boolean>>
}

const byName = new Map<string, ResolvedMethod>()
for (const method of METHODS) {
  const names: [string, ResolvedMethod][] = [
    [method.id, { method, fixedParams: {} }],
    ...method.aliases.map((a): [string, ResolvedMethod] => [a.name, { method, fixedParams: a.params }]),
  ]
  for (const [name, resolved] of names) {
    if (byName.has(name)) throw new Error(`method name "${name}" is declared twice`)
    byName.set(name, resolved)
  }
}

/** Finds a method by id or alias; unknown names get the nearest known names as a suggestion. */
export function resolveMethod(name: string): ResolvedMethod {
  const found = byName.get(name) ?? byName.get(name.toLowerCase().replace(/[\s-]+/g, '_'))
  if (found) return found
  const suggestions = [...byName.keys()]
    .map((candidate) => ({ candidate, distance: editDistance(name.toLowerCase(), candidate) }))
    .sort((x, y) => x.distance - y.distance)
    .slice(0, 3)
    .filter((s) => s.distance <= Math.max(3, name.length / 2))
    .map((s) => s.candidate)
  const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(', ')}?` : '; run `amalgam methods` for the list'
  throw new AmalgamError('UNKNOWN_METHOD', `unknown merge method "${name}"${hint}`)
}

export function allMethodNames(): string[] {
  return [...byName.keys()]
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = up
    }
  }
  return prev[b.length]!
}
