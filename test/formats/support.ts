import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { AmalgamError, type ErrorCode } from '../../src-main/engine/errors'

/** A fresh temporary directory per test, removed afterwards. */
export function useTempDir(): () => string {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'amalgam-formats-'))
    dirs.push(dir)
    return dir
  }
}

/**
 * Raw safetensors bytes from a header (object → JSON, exact text, or exact bytes) and a data section, with the
 * length prefix the header really has unless `declaredLength` says otherwise. For malformed fixtures.
 */
export function craftSafetensors(header: unknown, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): Uint8Array {
  const headerBytes = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header))
  const out = new Uint8Array(8 + headerBytes.length + data.length)
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(headerBytes.length), true)
  out.set(headerBytes, 8)
  out.set(data, 8 + headerBytes.length)
  return out
}

export function writeBytes(path: string, bytes: Uint8Array): string {
  writeFileSync(path, bytes)
  return path
}

/** Awaits `promise` (or calls `fn`) and returns the AmalgamError it fails with; fails the test otherwise. */
export async function amalgamErrorOf(run: Promise<unknown> | (() => unknown)): Promise<AmalgamError> {
  try {
    await (typeof run === 'function' ? run() : run)
  } catch (err) {
    if (err instanceof AmalgamError) return err
    throw new Error(`expected an AmalgamError, got ${String(err)}`, { cause: err })
  }
  throw new Error('expected an AmalgamError, but nothing was thrown')
}

export async function expectAmalgamError(run: Promise<unknown> | (() => unknown), code: ErrorCode, file: string, message: RegExp): Promise<AmalgamError> {
  const err = await amalgamErrorOf(run)
  const problems: string[] = []
  if (err.code !== code) problems.push(`code ${err.code}, expected ${code}`)
  if (!err.message.startsWith(`${file}: `)) problems.push(`message does not start with the file path`)
  if (!message.test(err.message)) problems.push(`message does not match ${String(message)}`)
  if (err.message.includes('\n')) problems.push('message is not one line')
  if (problems.length > 0) throw new Error(`${problems.join('; ')}: ${err.message}`)
  return err
}
