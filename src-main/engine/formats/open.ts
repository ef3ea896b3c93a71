import { stat } from 'node:fs/promises'
import { extname } from 'node:path'
import { fileError } from '../errors'
import type { Checkpoint } from './checkpoint'
import { openCkpt } from './ckpt/index'
import { ioError, readAt, readFileWith } from './file-io'
import { isGgufMagic, refuseGguf } from './safetensors/quantized'
import { openSafetensors } from './safetensors/reader'

const TORCH_EXTENSIONS = ['.ckpt', '.pt', '.pth', '.bin']

/**
 * Opens any checkpoint by path, reading only its header: safetensors and torch files by extension,
 * files with another extension by their first bytes. GGUF files and model folders are refused with
 * a message that says why.
 */
export async function openCheckpoint(path: string): Promise<Checkpoint> {
  let info
  try {
    info = await stat(path)
  } catch (err) {
    throw ioError(err, path)
  }
  if (info.isDirectory()) {
    throw fileError('UNSUPPORTED_FORMAT', path, 'is a folder; model folders (diffusers, Hugging Face) are not supported yet: use a single .safetensors file')
  }
  const ext = extname(path).toLowerCase()
  if (ext === '.gguf') throw refuseGguf(path)
  if (ext === '.safetensors') return openSafetensors(path)
  if (TORCH_EXTENSIONS.includes(ext)) return openCkpt(path)
  return openByContent(path)
}

async function openByContent(path: string): Promise<Checkpoint> {
  const head = await readFileWith(path, (handle) => readAt(handle, 9, 0))
  if (isGgufMagic(head)) throw refuseGguf(path)
  // "PK\3\4" (torch zip) or a pickle's PROTO / LONG opcode (legacy torch.save)
  if ((head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) || head[0] === 0x80 || head[0] === 0x4c) return openCkpt(path)
  // safetensors: an 8-byte little-endian header length, then the JSON header's opening brace
  if (head.length === 9 && head[8] === 0x7b) return openSafetensors(path)
  throw fileError('UNSUPPORTED_FORMAT', path, 'is not a checkpoint Amalgam reads (expected .safetensors, or a torch .ckpt/.pt/.pth/.bin)')
}
