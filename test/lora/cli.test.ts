import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { CommandIO } from '../../src-main/cli/command'
import { main } from '../../src-main/cli/main'
import { writeModel } from '../plan/support'
import { kohya, shapeOf, writeLora } from './support'

async function amalgam(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const io: CommandIO = { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false }
  const code = await main(args, io)
  return { code, out: out.join('\n'), err: err.join('\n') }
}

describe('amalgam lora inspect', () => {
  it('prints the LoRA and, with --model, the keys it matches and the modules that match nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amalgam-lora-cli-'))
    const model = await writeModel(join(dir, 'a.safetensors'), { seed: 1 })
    const key = 'model.diffusion_model.middle_block.1.proj_in.weight'
    const [rows, ...inner] = shapeOf('sd1', key)
    const lora = join(dir, 'l.safetensors')
    await writeLora(lora, [kohya('lora_unet_mid_block_attentions_0_proj_in', rows!, inner, 2, 1), kohya('lora_unet_nowhere_proj', 4, [4], 2, 1)], 1, { ss_network_dim: '2' })

    const plain = await amalgam(['lora', 'inspect', lora])
    expect(plain.code).toBe(0)
    expect(plain.out).toMatch(/rank \/ alpha\s+2 \/ 1/)
    expect(plain.out).toMatch(/ss_network_dim\s+2/)

    const json = await amalgam(['lora', 'inspect', lora, '--model', model, '--json'])
    expect(json.code).toBe(0)
    const report = JSON.parse(json.out) as { match: { adaptedKeys: string[]; unmatched: string[]; architecture: string } }
    expect(report.match).toMatchObject({ architecture: 'sd1', adaptedKeys: [key], unmatched: ['lora_unet_nowhere_proj'] })

    expect((await amalgam(['lora', 'inspect'])).code).toBe(2)
    expect((await amalgam(['lora', 'inspect', model])).code).toBe(1)
  })
})
