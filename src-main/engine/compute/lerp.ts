/**
 * torch.lerp's two-branch formula (METHODS.md §1.2): reproduces upstream outputs bit for bit in
 * float32 and is exact at both ends (w = 0 gives x, w = 1 gives y).
 */
export function lerp(x: number, y: number, w: number): number {
  return Math.abs(w) < 0.5 ? x + w * (y - x) : y - (y - x) * (1 - w)
}
