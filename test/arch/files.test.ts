import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { detectModel } from '../../src-main/engine/arch/detect'
import { syntheticLayout, syntheticValues } from '../../src-main/engine/arch/synthetic'
import { writeSyntheticCheckpoint } from '../../src-main/engine/arch/synthetic-file'
import { syntheticLlmLayout } from '../../src-main/engine/arch/synthetic-llm'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { TensorReader } from '../../src-main/engine/formats/tensor-reader'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'amalgam-arch-'))
  dirs.push(dir)
  return dir
}

describe('synthetic checkpoints on disk', () => {
  it.each([
    ['sd1', {}, { architecture: 'sd1', variant: null, predictionType: 'eps' }],
    ['sd2', { prediction: 'v' }, { architecture: 'sd2', predictionType: 'v' }],
    ['sdxl', { variant: 'inpainting' }, { architecture: 'sdxl', variant: 'inpainting' }],
    ['sd3', {}, { architecture: 'sd3', variant: 'medium', predictionType: 'flow' }],
    ['flux', { variant: 'schnell' }, { architecture: 'flux', variant: 'schnell' }],
  ] as const)('%s %o: written, reopened and detected the same', async (arch, opts, expected) => {
    const path = join(tempDir(), `${arch}.safetensors`)
    const layout = syntheticLayout(arch, { scale: 'tiny', ...opts })
    await writeSyntheticCheckpoint(path, layout, { seed: 1, metadata: { 'modelspec.title': 'demo' } })
    const checkpoint = await openSafetensors(path)
    expect(checkpoint.tensors.map((t) => [t.key, t.dtype, t.shape])).toEqual(layout.map((t) => [t.key, t.dtype, t.shape]))
    expect(checkpoint.metadata['modelspec.title']).toBe('demo')
    expect(detectModel(checkpoint.tensors, { metadata: checkpoint.metadata })).toMatchObject(expected)
    expect(readdirSync(join(path, '..'))).toEqual([`${arch}.safetensors`])
  })

  it('float tensors hold syntheticValues (exactly in F32), integer tensors count along their last axis', async () => {
    const path = join(tempDir(), 'sd1.safetensors')
    const layout = syntheticLayout('sd1', { scale: 'tiny', includeOptional: true, ema: true })
    await writeSyntheticCheckpoint(path, layout, { seed: 42, dtype: 'F32' })
    const checkpoint = await openSafetensors(path)
    const reader = new TensorReader()
    try {
      const conv = checkpoint.tensors.find((t) => t.key === 'model.diffusion_model.input_blocks.0.0.weight')!
      expect(conv.dtype).toBe('F32')
      expect(reader.readFloat32(conv.locator)).toEqual(syntheticValues(conv, 42))
      const ids = checkpoint.tensors.find((t) => t.key === 'cond_stage_model.transformer.text_model.embeddings.position_ids')!
      expect(ids.dtype).toBe('I64')
      const bytes = reader.readBytes(ids.locator)
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      const values = Array.from({ length: bytes.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)))
      expect(values).toEqual(Array.from({ length: ids.shape.at(-1)! }, (_, i) => i))
      const updates = checkpoint.tensors.find((t) => t.key === 'model_ema.num_updates')!
      expect([updates.dtype, reader.readBytes(updates.locator).length]).toEqual(['I32', 4])
    } finally {
      reader.close()
    }
    expect(detectModel(checkpoint.tensors).components.map((c) => c.id)).toEqual(['unet', 'clip_l', 'vae', 'ema', 'scheduler'])
  })

  it('an LLM file is detected from its keys', async () => {
    const path = join(tempDir(), 'model.safetensors')
    await writeSyntheticCheckpoint(path, syntheticLlmLayout('qwen2', { layers: 3, hidden: 16, intermediate: 32, vocab: 40, heads: 4, kvHeads: 2, tied: false }), { seed: 3 })
    const checkpoint = await openSafetensors(path)
    expect(detectModel(checkpoint.tensors).llm).toEqual({ family: 'qwen2', layers: 3, hiddenSize: 16, vocabSize: 40, tiedEmbeddings: false })
  })

  it('a failed write leaves neither the file nor its .partial', async () => {
    const dir = tempDir()
    const path = join(dir, 'broken.safetensors')
    const layout = [
      { key: 'a.weight', dtype: 'F16' as const, shape: [2, 2] },
      { key: 'a.weight', dtype: 'F16' as const, shape: [2, 2] },
    ]
    await expect(writeSyntheticCheckpoint(path, layout, { seed: 1 })).rejects.toThrow(/listed twice/)
    expect(existsSync(path)).toBe(false)
    expect(readdirSync(dir)).toEqual([])
  })
})
