import { readSync, writeSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { AmalgamError, fileError, type ErrorCode } from '../errors'

/** Turns a Node file-system error into the AmalgamError a person sees; `context` narrows it down ("tensor \"x\""). */
export function ioError(err: unknown, path: string, context?: string): AmalgamError {
  if (err instanceof AmalgamError) return err
  const errno = (err as NodeJS.ErrnoException | null)?.code
  const [code, problem]: [ErrorCode, string] =
    errno === 'ENOENT'
      ? ['FILE_NOT_FOUND', 'file not found']
      : errno === 'EACCES' || errno === 'EPERM'
        ? ['FILE_UNREADABLE', 'permission denied']
        : errno === 'EISDIR'
          ? ['FILE_UNREADABLE', 'is a directory, not a file']
          : errno === 'ENOSPC' || errno === 'EDQUOT'
            ? ['DISK_FULL', 'no space left on the disk']
            : ['FILE_UNREADABLE', err instanceof Error ? err.message : String(err)]
  return fileError(code, path, context === undefined ? problem : `${context}: ${problem}`)
}

/** Opens `path` read-only for `read`, closes it whatever happens, and reports failures as ioError does. */
export async function readFileWith<T>(path: string, read: (handle: FileHandle) => Promise<T>): Promise<T> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    throw ioError(err, path)
  }
  try {
    return await read(handle)
  } catch (err) {
    throw ioError(err, path)
  } finally {
    await handle.close()
  }
}

/** Node refuses single reads or writes over 2 GiB; larger ones are split. */
const MAX_IO_BYTES = 1 << 30

/** Reads up to `length` bytes at `position`, looping over short reads; fewer bytes only at end of file. */
export async function readAt(handle: FileHandle, length: number, position: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length)
  let done = 0
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, Math.min(length - done, MAX_IO_BYTES), position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done === length ? buffer : buffer.subarray(0, done)
}

/** Synchronous twin of readAt for worker threads: fills `into` from `position`, returns how many bytes were read. */
export function readAtSync(fd: number, into: Uint8Array, position: number): number {
  let done = 0
  while (done < into.length) {
    const n = readSync(fd, into, done, Math.min(into.length - done, MAX_IO_BYTES), position + done)
    if (n === 0) break
    done += n
  }
  return done
}

/** Writes all of `bytes` at `position` (positioned, so threads can fill one file at different offsets), looping over short writes. */
export function writeAtSync(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, Math.min(bytes.length - done, MAX_IO_BYTES), position + done)
  }
}
