import { open, type FileHandle } from 'node:fs/promises'
import { ioError } from '../formats/file-io'

/** Output bytes between two flushes: big enough that each flush is one long sequential write. */
const FLUSH_EVERY_BYTES = 128 << 20

/**
 * Keeps the disk writing the output while the merge computes. Left alone, the kernel holds gigabytes
 * of written data in the page cache until the final fsync, which then writes it all while every core
 * waits; flushing as the output grows overlaps that write with the merge. One flush at a time, in the
 * background; a flush error is kept and reported by `close` (a failed fsync must never be forgotten:
 * the next one may succeed without the lost data).
 */
export class WritebackPacer {
  private pending = 0
  private flushing: Promise<void> | null = null
  private failure: unknown = null

  private constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
  ) {}

  static async open(path: string): Promise<WritebackPacer> {
    try {
      return new WritebackPacer(await open(path, 'r+'), path)
    } catch (err) {
      throw ioError(err, path)
    }
  }

  /** `bytes` more of the output have been written. */
  written(bytes: number): void {
    this.pending += bytes
    if (this.pending < FLUSH_EVERY_BYTES || this.flushing !== null || this.failure !== null) return
    this.pending = 0
    this.flushing = this.handle
      .datasync()
      .catch((err: unknown) => {
        this.failure = ioError(err, this.path)
      })
      .finally(() => {
        this.flushing = null
      })
  }

  /** Waits for the flush in progress, closes the file, and throws the first flush error. */
  async close(): Promise<void> {
    await this.flushing
    await this.handle.close().catch(() => undefined)
    if (this.failure !== null) throw this.failure
  }
}
