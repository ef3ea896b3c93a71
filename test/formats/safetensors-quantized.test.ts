import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { writeSafetensorsFile, type TensorToWrite } from '../../src-main/engine/formats/safetensors/writer'
import { TensorReader } from '../../src-main/engine/formats/tensor-reader'
import { LAYOUTS, refDecode } from './float-reference'
import { craftSafetensors, expectAmalgamError, useTempDir, writeBytes } from './support'

const tempDir = useTempDir()

const raw = (key: string, dtype: TensorToWrite['dtype'], shape: number[], data: Uint8Array | Float32Array): TensorToWrite => ({ key, dtype, shape, data })
const scalar = (key: string, value: number, shape: number[] = []): TensorToWrite => raw(key, 'F32', shape, Float32Array.of(value))

describe('ComfyUI scaled fp8', () => {
  const QKV = 'model.diffusion_model.double_blocks.0.img_attn.qkv'
  const MLP = 'model.diffusion_model.double_blocks.0.img_mlp.0'
  const qkvCodes = Uint8Array.from({ length: 12 }, (_, i) => (i * 37 + 5) % 0x7f) // no NaN codes
  const mlpCodes = Uint8Array.of(0x38, 0xb8, 0x01, 0x7e)

  async function fluxScaledFile(): Promise<string> {
    const path = join(tempDir(), 'flux1-dev-fp8-scaled.safetensors')
    await writeSafetensorsFile(path, [
      raw('model.diffusion_model.scaled_fp8', 'F8_E4M3', [0], new Uint8Array(0)),
      raw(`${QKV}.weight`, 'F8_E4M3', [4, 3], qkvCodes),
      scalar(`${QKV}.scale_weight`, 0.0213623046875),
      scalar(`${QKV}.scale_input`, 1),
      raw(`${QKV}.bias`, 'BF16', [12], new Float32Array(12).fill(0.5)),
      raw(`${MLP}.weight`, 'F8_E4M3', [2, 2], mlpCodes),
      scalar(`${MLP}.scale_weight`, 3, [1]),
      raw('model.diffusion_model.final_layer.linear.weight', 'BF16', [2], Float32Array.of(1, 2)),
    ])
    return path
  }

  it('consumes the marker and scale tensors, puts the scale on the weight locators, and notes it', async () => {
    const ckpt = await openSafetensors(await fluxScaledFile())
    expect(ckpt.tensors.map((t) => t.key)).toEqual([`${QKV}.weight`, `${QKV}.bias`, `${MLP}.weight`, 'model.diffusion_model.final_layer.linear.weight'])
    const byKey = new Map(ckpt.tensors.map((t) => [t.key, t]))
    expect(byKey.get(`${QKV}.weight`)!.locator.scale).toBe(0.0213623046875)
    expect(byKey.get(`${MLP}.weight`)!.locator.scale).toBe(3)
    expect(byKey.get(`${QKV}.bias`)!.locator.scale).toBeUndefined()
    expect(ckpt.notes).toEqual(['dequantised scaled fp8 (2 layers)'])
  })

  it('reads dequantised values: stored e4m3 value × scale', async () => {
    const ckpt = await openSafetensors(await fluxScaledFile())
    const reader = new TensorReader()
    try {
      const qkv = ckpt.tensors.find((t) => t.key === `${QKV}.weight`)!
      const expected = [...qkvCodes].map((c) => Math.fround(refDecode(LAYOUTS.F8_E4M3, c) * 0.0213623046875))
      expect([...reader.readFloat32(qkv.locator)]).toEqual(expected)
      expect([...reader.readFloat32(qkv.locator, 5, 9)]).toEqual(expected.slice(5, 9))
      const mlp = ckpt.tensors.find((t) => t.key === `${MLP}.weight`)!
      expect([...reader.readFloat32(mlp.locator)]).toEqual([3, -3, 3 * 2 ** -9, 3 * 448])
      await expectAmalgamError(() => reader.readBytes(mlp.locator), 'INTERNAL', ckpt.path, /scaled fp8 tensor's bytes are not its values/)
    } finally {
      reader.close()
    }
  })

  it('handles a text encoder file whose marker has no prefix (t5xxl_fp8_e4m3fn_scaled)', async () => {
    const path = join(tempDir(), 't5xxl_fp8_e4m3fn_scaled.safetensors')
    const q = 'encoder.block.0.layer.0.SelfAttention.q'
    await writeSafetensorsFile(path, [
      raw('scaled_fp8', 'F8_E4M3', [0], new Uint8Array(0)),
      raw(`${q}.weight`, 'F8_E4M3', [2], Uint8Array.of(0x38, 0x40)),
      scalar(`${q}.scale_weight`, 0.5),
      raw('shared.weight', 'F16', [2], Float32Array.of(1, 2)),
    ])
    const ckpt = await openSafetensors(path)
    expect(ckpt.tensors.map((t) => t.key)).toEqual([`${q}.weight`, 'shared.weight'])
    const reader = new TensorReader()
    try {
      expect([...reader.readFloat32(ckpt.tensors[0]!.locator)]).toEqual([0.5, 1])
    } finally {
      reader.close()
    }
  })

  it('leaves scale_weight keys alone when there is no scaled_fp8 marker (as ComfyUI does)', async () => {
    const path = join(tempDir(), 'plain.safetensors')
    await writeSafetensorsFile(path, [raw('lin.weight', 'F16', [1], Float32Array.of(1)), scalar('lin.scale_weight', 2)])
    const ckpt = await openSafetensors(path)
    expect(ckpt.tensors.map((t) => [t.key, t.locator.scale])).toEqual([
      ['lin.weight', undefined],
      ['lin.scale_weight', undefined],
    ])
    expect(ckpt.notes).toEqual([])
  })

  it('refuses per-channel scales and a scale without its weight', async () => {
    const perChannel = join(tempDir(), 'per-channel.safetensors')
    await writeSafetensorsFile(perChannel, [
      raw('model.diffusion_model.scaled_fp8', 'F8_E4M3', [0], new Uint8Array(0)),
      raw('model.diffusion_model.x.weight', 'F8_E4M3', [2, 1], Uint8Array.of(1, 2)),
      raw('model.diffusion_model.x.scale_weight', 'F32', [2], Float32Array.of(1, 2)),
    ])
    await expectAmalgamError(openSafetensors(perChannel), 'QUANTIZED_UNSUPPORTED', perChannel, /per-channel scaled fp8 checkpoint \(it has tensor "model.diffusion_model.x.scale_weight" of shape \[2\]\)/)
    const orphan = join(tempDir(), 'orphan.safetensors')
    await writeSafetensorsFile(orphan, [raw('scaled_fp8', 'F8_E4M3', [0], new Uint8Array(0)), scalar('x.scale_weight', 2)])
    await expectAmalgamError(openSafetensors(orphan), 'BAD_TENSOR', orphan, /scaled fp8: "x.scale_weight" has no "x.weight" to scale/)
  })
})

describe('quantised files are refused with what they are', () => {
  it('bitsandbytes NF4 (Forge Flux NF4 key names)', async () => {
    const path = join(tempDir(), 'flux1-dev-bnb-nf4.safetensors')
    const w = 'model.diffusion_model.double_blocks.0.img_attn.proj.weight'
    await writeSafetensorsFile(path, [
      raw(w, 'U8', [8, 1], new Uint8Array(8)),
      raw(`${w}.absmax`, 'F32', [1], Float32Array.of(1)),
      raw(`${w}.quant_map`, 'F32', [16], new Float32Array(16)),
      raw(`${w}.quant_state.bitsandbytes__nf4`, 'U8', [4], new Uint8Array(4)),
    ])
    const err = await expectAmalgamError(openSafetensors(path), 'QUANTIZED_UNSUPPORTED', path, /this is a bitsandbytes NF4\/FP4-quantised checkpoint/)
    expect(err.message).toMatch(/convert it to fp16\/bf16\/fp32 safetensors first/)
  })

  it('GGUF by magic bytes and by extension', async () => {
    const gguf = new Uint8Array(32)
    gguf.set([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0])
    const byMagic = writeBytes(join(tempDir(), 'flux1-dev-Q4_K_S.bin'), gguf)
    await expectAmalgamError(openSafetensors(byMagic), 'QUANTIZED_UNSUPPORTED', byMagic, /this is a GGUF file/)
    const byName = writeBytes(join(tempDir(), 'model.Q8_0.gguf'), craftSafetensors('{}'))
    await expectAmalgamError(openSafetensors(byName), 'QUANTIZED_UNSUPPORTED', byName, /this is a GGUF file/)
  })

  it('fp8 weights with separate weight_scale tensors (compressed-tensors / ComfyUI mixed precision)', async () => {
    const path = join(tempDir(), 'Meta-Llama-3-8B-Instruct-FP8.safetensors')
    await writeSafetensorsFile(path, [
      raw('model.layers.0.mlp.down_proj.weight', 'F8_E4M3', [2], Uint8Array.of(1, 2)),
      scalar('model.layers.0.mlp.down_proj.weight_scale', 0.1),
      scalar('model.layers.0.mlp.down_proj.input_scale', 0.2),
    ])
    await expectAmalgamError(openSafetensors(path), 'QUANTIZED_UNSUPPORTED', path, /F8_E4M3 weight-scale-quantised checkpoint \(it has tensor "model.layers.0.mlp.down_proj.weight_scale"\)/)
    const comfy = join(tempDir(), 'qwen_image_fp8mixed.safetensors')
    await writeSafetensorsFile(comfy, [raw('model.diffusion_model.img_in.weight', 'BF16', [1], Float32Array.of(1))], { _quantization_metadata: '{"format_version":"1.0","layers":{}}' })
    await expectAmalgamError(openSafetensors(comfy), 'QUANTIZED_UNSUPPORTED', comfy, /ComfyUI mixed-precision quantised checkpoint/)
  })

  it('GPTQ/AWQ and bitsandbytes int8', async () => {
    const gptq = join(tempDir(), 'gptq.safetensors')
    await writeSafetensorsFile(gptq, [raw('model.layers.0.self_attn.q_proj.qweight', 'I32', [1], new Uint8Array(4))])
    await expectAmalgamError(openSafetensors(gptq), 'QUANTIZED_UNSUPPORTED', gptq, /GPTQ\/AWQ-quantised/)
    const int8 = join(tempDir(), 'int8.safetensors')
    await writeSafetensorsFile(int8, [raw('model.layers.0.self_attn.q_proj.SCB', 'F32', [1], Float32Array.of(1))])
    await expectAmalgamError(openSafetensors(int8), 'QUANTIZED_UNSUPPORTED', int8, /bitsandbytes int8-quantised/)
  })
})
