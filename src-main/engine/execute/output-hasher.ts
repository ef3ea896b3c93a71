import { createHash } from 'node:crypto'
import { open, type FileHandle } from 'node:fs/promises'
import { AmalgamError } from '../errors'
import type { ByteRange } from '../formats/safetensors/writer'
import { ioError } from '../formats/file-io'

const READ_BYTES = 16 << 20

/**
 * SHA-256 of the output's tensor data (modelspec.hash_sha256, AutoV3), computed while the merge runs:
 * as the keys at the front of the file are finished, in file order, their bytes are read back (from
 * the page cache, they were just written) and hashed, so only the tail is left when the last key
 * lands. Keys finish in any order; hashing waits until the next one in file order is done.
 */
export class OutputHasher {
  private readonly hash = createHash('sha256')
  private readonly done: boolean[]
  private next = 0
  private pumping: Promise<void> | null = null
  private failure: unknown = null
  private buffer: Uint8Array | null = null

  private constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    private readonly dataStart: number,
    /** each key's bytes relative to dataStart, in file order, contiguous from 0 */
    private readonly ranges: readonly ByteRange[],
  ) {
    this.done = ranges.map(() => false)
  }

  static async open(path: string, dataStart: number, ranges: readonly ByteRange[]): Promise<OutputHasher> {
    try {
      return new OutputHasher(await open(path, 'r'), path, dataStart, ranges)
    } catch (err) {
      throw ioError(err, path)
    }
  }

  /** Key `index` (its position in file order) has been written. */
  completed(index: number): void {
    this.done[index] = true
    this.kick()
  }

  /** The hex digest, once every key has been completed and hashed. */
  async digest(): Promise<string> {
    while (this.pumping !== null) await this.pumping
    if (this.failure !== null) throw this.failure
    if (this.next !== this.ranges.length) throw new AmalgamError('INTERNAL', `${this.path}: only ${this.next} of ${this.ranges.length} keys were hashed`)
    return this.hash.digest('hex')
  }

  async close(): Promise<void> {
    await this.pumping?.catch(() => undefined)
    await this.handle.close().catch(() => undefined)
  }

  /** Starts hashing when the next key in file order is ready and no pass is running (re-checked after each pass). */
  private kick(): void {
    if (this.pumping !== null || this.failure !== null || this.done[this.next] !== true) return
    this.pumping = this.pump().finally(() => {
      this.pumping = null
      this.kick()
    })
  }

  private async pump(): Promise<void> {
    try {
      while (this.done[this.next] === true && this.failure === null) {
        // every finished key from here on in one pass: small keys then cost one read, not one each
        const begin = this.ranges[this.next]!.begin
        let last = this.next
        while (this.done[last + 1] === true) last++
        await this.hashRange(begin, this.ranges[last]!.end)
        this.next = last + 1
      }
    } catch (err) {
      this.failure = ioError(err, this.path)
    }
  }

  private async hashRange(begin: number, end: number): Promise<void> {
    this.buffer ??= new Uint8Array(READ_BYTES)
    for (let position = begin; position < end; ) {
      const want = Math.min(this.buffer.length, end - position)
      const { bytesRead } = await this.handle.read(this.buffer, 0, want, this.dataStart + position)
      if (bytesRead === 0) throw new AmalgamError('INTERNAL', `${this.path}: byte ${this.dataStart + position} was not written`)
      this.hash.update(this.buffer.subarray(0, bytesRead))
      position += bytesRead
    }
  }
}
