import { lstat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { syntheticLayout } from '../arch/synthetic'
import { writeSyntheticCheckpoint } from '../arch/synthetic-file'

/** The demo models: SD1 key layout with tiny shapes (about 320 KB each in fp16), different random weights. */
export const DEMO_MODELS = [
  { file: 'demo-base.safetensors', seed: 101, title: 'Demo base' },
  { file: 'demo-anime.safetensors', seed: 202, title: 'Demo anime' },
  { file: 'demo-photo.safetensors', seed: 303, title: 'Demo photo' },
] as const

/**
 * Writes the demo checkpoints into `folder` (which must exist), so a new user can try a merge at once.
 * They are real SD1 files to every part of Amalgam (names, ranks, detection) but generate nothing
 * useful. A file already there under a demo name is left alone. Returns the paths written.
 */
export async function createDemoCheckpoints(folder: string): Promise<string[]> {
  const layout = syntheticLayout('sd1', { scale: 'tiny' })
  const written: string[] = []
  for (const model of DEMO_MODELS) {
    const path = join(resolve(folder), model.file)
    if (await lstat(path).then(() => true, () => false)) continue
    await writeSyntheticCheckpoint(path, layout, {
      seed: model.seed,
      dtype: 'F16',
      metadata: {
        'modelspec.title': model.title,
        'modelspec.description': 'A tiny generated Stable Diffusion 1 checkpoint for trying Amalgam: real tensor names, random weights, no use for generating images.',
      },
    })
    written.push(path)
  }
  return written
}
