/*
 * Real-input forms of the complex principal powers used by geometric_sum and multiply_quotient
 * (METHODS.md §3.10, §3.11): x^p = |x|^p · e^(iπp) for negative x.
 */

/** cos(πt), exactly 0 or ±1 at multiples of 1/2 (Math.cos(Math.PI / 2) is 6e-17, not 0) */
export function cosPi(t: number): number {
  const r = ((t % 2) + 2) % 2
  if (r === 0) return 1
  if (r === 1) return -1
  if (r === 0.5 || r === 1.5) return 0
  return Math.cos(Math.PI * r)
}

/** sin(πt), exactly 0 or ±1 at multiples of 1/2 */
export function sinPi(t: number): number {
  return cosPi(t - 0.5)
}

/** |x|^p with x^0 = 1 for every x and 0^p = NaN for p < 0 (the complex power has no finite value there) */
export function magnitudePow(magnitude: number, p: number): number {
  if (p === 0) return 1
  if (magnitude === 0 && p < 0) return NaN
  return Math.pow(magnitude, p)
}

/** true for negative numbers and -0: the sign bit decides the complex argument (π) */
export function signBit(x: number): boolean {
  return x < 0 || (x === 0 && 1 / x < 0)
}
