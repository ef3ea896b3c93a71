import { closeSync, fsyncSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs'

/** Large enough that syscalls cost nothing next to the copy, small enough to stay in cache. */
const PIECE_BYTES = 16 << 20

/**
 * The I/O floor a merge of these inputs cannot beat: every input read once, start to end, and an
 * output-sized file written and fsynced (the merge syncs its output before renaming it too). Done
 * on one thread with no computation, the way `cat inputs > /dev/null; dd of=out; sync` would.
 * Returns the bytes moved; the file written is removed afterwards.
 */
export function measureIoFloor(inputs: readonly string[], output: string, outputBytes: number): number {
  const buffer = new Uint8Array(PIECE_BYTES)
  let moved = 0
  for (const path of inputs) moved += readThrough(path, buffer)
  // the last piece read is written over and over: real data, not zero pages a filesystem might skip
  const fd = openSync(output, 'w')
  try {
    for (let done = 0; done < outputBytes; ) {
      const n = writeSync(fd, buffer, 0, Math.min(buffer.length, outputBytes - done))
      done += n
    }
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  moved += outputBytes
  unlinkSync(output)
  return moved
}

/** Reads a file start to end through `buffer`, dropping the bytes (this also brings it into the page cache); returns its length. */
export function readThrough(path: string, buffer = new Uint8Array(PIECE_BYTES)): number {
  let total = 0
  const fd = openSync(path, 'r')
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null)
      if (n === 0) return total
      total += n
    }
  } finally {
    closeSync(fd)
  }
}
