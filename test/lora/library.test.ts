import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ModelEntry } from '../../src-main/common/model-entry'
import { EntryCache } from '../../src-main/engine/library/entry-cache'
import { inspectModel } from '../../src-main/engine/library/inspect'
import { scanFolder } from '../../src-main/engine/library/scan'
import { kohya, writeLora } from './support'

describe('LoRA files in the library', () => {
  it('are listed as kind lora with architecture, rank, alpha, network and ss_* metadata', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amalgam-lora-lib-'))
    await writeLora(
      join(dir, 'xl.safetensors'),
      [
        kohya('lora_te2_text_model_encoder_layers_0_self_attn_q_proj', 8, [8], 4, 2),
        kohya('lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q', 8, [8], 4, 2),
        kohya('lora_unet_input_blocks_1_0_in_layers_2', 8, [8, 3, 3], 4, 2, true),
      ],
      1,
      { ss_network_dim: '4', ss_network_alpha: '2', ss_base_model_version: 'sdxl_base_v1-0', other: 'x' },
    )
    const entries = await scanFolder(dir)
    expect(entries).toHaveLength(1)
    const entry = ModelEntry.parse(entries[0])
    expect(entry).toMatchObject({ architecture: 'lora', status: 'ok', problem: null })
    expect(entry.lora).toEqual({
      baseArchitecture: 'sdxl',
      networkTypes: ['lora'],
      naming: 'kohya',
      modules: 3,
      rank: 4,
      alpha: 2,
      conv: true,
      textEncoder: true,
      unsupportedModules: 0,
      training: { ss_network_dim: '4', ss_network_alpha: '2', ss_base_model_version: 'sdxl_base_v1-0' },
    })
  })

  it('a diffusers-format Flux LoRA is recognised as Flux', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amalgam-lora-lib-'))
    const path = join(dir, 'flux.safetensors')
    await writeLora(path, [{ up: 'transformer.single_transformer_blocks.0.attn.to_q.lora_B.weight', down: 'transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight', upShape: [6, 2], downShape: [2, 6] }], 1)
    expect((await inspectModel(path)).lora).toMatchObject({ baseArchitecture: 'flux', naming: 'diffusers', rank: 2, conv: false, textEncoder: false })
  })

  it('a LoRA entry remembered without details (an older scan) is read again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amalgam-lora-lib-'))
    const path = join(dir, 'old.safetensors')
    await writeLora(path, [kohya('lora_unet_mid_block_attentions_0_proj_in', 4, [4], 2)], 1)
    const fresh = await inspectModel(path)
    const { lora: _details, ...old } = fresh
    const folder = await new EntryCache(join(dir, 'cache')).forFolder(dir)
    const fingerprint = { size: fresh.size, mtimeMs: fresh.mtimeMs, sidecarMtimeMs: null }
    folder.set(path, fingerprint, { ...old, status: 'unsupported', problem: 'a LoRA/LyCORIS file adapts a checkpoint' })
    expect(folder.get(path, fingerprint)).toBeNull()
    folder.set(path, fingerprint, fresh)
    expect(folder.get(path, fingerprint)?.lora).toEqual(fresh.lora)
  })
})
