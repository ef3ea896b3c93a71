/**
 * mergekit's sharding rule: items in order, a new shard when the next item would take the current
 * one past `shardSize` bytes (a single larger item gets a shard of its own). Sizes are tensor bytes.
 */
export function groupIntoShards<T>(items: readonly T[], bytesOf: (item: T) => number, shardSize: number): T[][] {
  const groups: T[][] = []
  let current: T[] = []
  let currentBytes = 0
  for (const item of items) {
    const bytes = bytesOf(item)
    if (current.length > 0 && currentBytes + bytes > shardSize) {
      groups.push(current)
      current = []
      currentBytes = 0
    }
    current.push(item)
    currentBytes += bytes
  }
  groups.push(current)
  return groups
}
