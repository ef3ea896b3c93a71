/**
 * Errors the user sees. Every failure that reaches a person is an AmalgamError: a stable code for
 * programs, and a one-line message that names the file (or recipe path) and the problem, so the CLI
 * and the app can print it without a stack trace.
 */
export type ErrorCode =
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'BAD_HEADER'
  | 'BAD_TENSOR'
  | 'UNSUPPORTED_DTYPE'
  | 'UNSUPPORTED_FORMAT'
  | 'QUANTIZED_UNSUPPORTED'
  | 'HOSTILE_PICKLE'
  | 'BAD_PICKLE'
  | 'BAD_ZIP'
  | 'BAD_RECIPE'
  | 'UNKNOWN_METHOD'
  | 'INCOMPATIBLE_MODELS'
  | 'SHAPE_MISMATCH'
  | 'MISSING_KEY'
  | 'OUTPUT_EXISTS'
  | 'OUTPUT_IS_INPUT'
  | 'DISK_FULL'
  | 'OUT_OF_MEMORY'
  | 'CANCELLED'
  | 'WORKER_CRASHED'
  | 'BAD_ARGUMENT'
  /** a desktop feature (native dialogs, reveal in folder) asked for under `amalgam serve` */
  | 'NOT_AVAILABLE'
  | 'INTERNAL'

export class AmalgamError extends Error {
  override readonly name = 'AmalgamError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The file the problem is in, when there is one; the message already names it. */
    readonly file?: string,
  ) {
    super(message)
  }
}

/** "model.safetensors: header length 9e9 is larger than the file (12 bytes)" */
export function fileError(code: ErrorCode, file: string, problem: string): AmalgamError {
  return new AmalgamError(code, `${file}: ${problem}`, file)
}

/** Turns anything thrown into one line for a person; unexpected errors keep their message only. */
export function describeError(err: unknown): string {
  if (err instanceof AmalgamError) return err.message
  if (err instanceof Error) return err.message
  return String(err)
}

export function isAmalgamError(err: unknown, code?: ErrorCode): err is AmalgamError {
  return err instanceof AmalgamError && (code === undefined || err.code === code)
}
