import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openCheckpoint } from '../../src-main/engine/formats/open'
import { expectAmalgamError, useTempDir } from '../formats/support'
import { writeModel } from './support'

const tempDir = useTempDir()
const TORCH_FIXTURE = new URL('../fixtures/torch/sd1-tiny.ckpt', import.meta.url)

describe('openCheckpoint', () => {
  it('opens safetensors and torch files by extension, and by their first bytes otherwise', async () => {
    const dir = tempDir()
    const st = await writeModel(join(dir, 'model.safetensors'), { seed: 1 })
    expect((await openCheckpoint(st)).format).toBe('safetensors')
    copyFileSync(st, join(dir, 'model.weights'))
    expect((await openCheckpoint(join(dir, 'model.weights'))).format).toBe('safetensors')
    copyFileSync(TORCH_FIXTURE, join(dir, 'model.ckpt'))
    copyFileSync(TORCH_FIXTURE, join(dir, 'model.data'))
    const ckpt = await openCheckpoint(join(dir, 'model.ckpt'))
    expect(ckpt.format).toBe('ckpt')
    expect((await openCheckpoint(join(dir, 'model.data'))).tensors).toEqual(ckpt.tensors.map((t) => ({ ...t, locator: { ...t.locator, path: join(dir, 'model.data') } })))
  })

  it('refuses folders, GGUF files and anything else with the reason', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'diffusers-model'))
    await expectAmalgamError(openCheckpoint(join(dir, 'diffusers-model')), 'UNSUPPORTED_FORMAT', join(dir, 'diffusers-model'), /model folders .* are not supported yet/)
    writeFileSync(join(dir, 'q.gguf'), 'GGUF....')
    await expectAmalgamError(openCheckpoint(join(dir, 'q.gguf')), 'QUANTIZED_UNSUPPORTED', join(dir, 'q.gguf'), /GGUF/)
    writeFileSync(join(dir, 'q.model'), 'GGUF....')
    await expectAmalgamError(openCheckpoint(join(dir, 'q.model')), 'QUANTIZED_UNSUPPORTED', join(dir, 'q.model'), /GGUF/)
    writeFileSync(join(dir, 'notes.txt'), 'hello, world')
    await expectAmalgamError(openCheckpoint(join(dir, 'notes.txt')), 'UNSUPPORTED_FORMAT', join(dir, 'notes.txt'), /not a checkpoint Amalgam reads/)
    await expectAmalgamError(openCheckpoint(join(dir, 'absent.safetensors')), 'FILE_NOT_FOUND', join(dir, 'absent.safetensors'), /file not found/)
  })
})
