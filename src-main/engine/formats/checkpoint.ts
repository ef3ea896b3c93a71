import type { DType } from './dtype'

/**
 * Where a tensor's bytes live. Plain data, so a worker thread can read the tensor itself with
 * positioned reads (no tensor data ever crosses a thread boundary on the way in).
 */
export interface TensorLocator {
  readonly path: string
  /** the tensor's name, for error messages */
  readonly key?: string
  /** dtype as stored in the file */
  readonly dtype: DType
  readonly shape: readonly number[]
  /**
   * absolute byte offset in `path` of the tensor's first element; for a strided view, of the view's
   * element [0, 0, …] in its storage (the storage offset already applied)
   */
  readonly offset: number
  /** bytes covered from `offset`: the tensor for contiguous data, the storage span the view reaches for strided views */
  readonly byteLength: number
  /** element strides (non-negative) of a non-contiguous view (torch); absent = C-contiguous */
  readonly strides?: readonly number[]
  /**
   * set when the file stores a dtype we cannot compute on ("F8_E8M0"); `dtype` is then only a
   * placeholder and every attempt to read the data fails with UNSUPPORTED_DTYPE
   */
  readonly unsupportedDtype?: string
  /** ComfyUI "scaled fp8": the real value is stored value × scale */
  readonly scale?: number
  /** torch files may be big-endian; safetensors is always little-endian */
  readonly byteOrder?: 'little' | 'big'
}

export interface TensorInfo {
  readonly key: string
  readonly dtype: DType
  readonly shape: readonly number[]
  readonly locator: TensorLocator
}

export type CheckpointFormat = 'safetensors' | 'ckpt' | 'hf-folder' | 'diffusers-folder'

/**
 * A checkpoint opened by reading only its header (or pickle / index): the tensor table and the
 * metadata. Tensor data is read later, per tensor, through the locators.
 */
export interface Checkpoint {
  readonly path: string
  readonly format: CheckpointFormat
  /** total bytes on disk (all shards for folders) */
  readonly fileSize: number
  /** tensors in file (data offset) order */
  readonly tensors: readonly TensorInfo[]
  /** safetensors `__metadata__` (empty for formats without one) */
  readonly metadata: Readonly<Record<string, string>>
  /** set when the file holds a dtype we cannot compute on: "unsupported: F8_E8M0" */
  readonly unsupported?: string
  /** things the reader did that the user should know ("ignored 3 non-tensor objects: ...", "dequantised scaled fp8") */
  readonly notes: readonly string[]
  /** safetensors only: 8 + header length, where tensor data starts (AutoV3 hashes the bytes after it) */
  readonly dataStart?: number
}
