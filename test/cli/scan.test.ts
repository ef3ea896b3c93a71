import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ModelEntry } from '../../src-main/common/model-entry'
import { createDemoCheckpoints } from '../../src-main/engine/library/demo'
import { hashFileSync } from '../../src-main/engine/library/hashes'
import { craftSafetensors, useTempDir, writeBytes, writeTiny } from '../library/support'
import { amalgam, expectOneLineError } from './support-library'

const tempDir = useTempDir()
beforeAll(() => {
  process.env.AMALGAM_CACHE_DIR = join(tempDir(), 'cache')
})

async function folder(): Promise<string> {
  const dir = tempDir()
  mkdirSync(join(dir, 'xl'))
  await createDemoCheckpoints(dir)
  await writeTiny(join(dir, 'xl', 'inpaint.safetensors'), 'sdxl', { synthetic: { variant: 'inpainting' }, dtype: 'BF16' })
  writeBytes(join(dir, 'xl', 'broken.safetensors'), craftSafetensors('{"a":'))
  writeFileSync(join(dir, 'notes.txt'), 'not a model')
  return dir
}

describe('amalgam scan', () => {
  it('prints a table with malformed files as rows with their problem, exit 0', async () => {
    const dir = await folder()
    const run = await amalgam('scan', dir)
    expect(run.code).toBe(0)
    const lines = run.out.split('\n')
    expect(lines[0]).toMatch(/^NAME +ARCH +VARIANT +PRED +DTYPE +SIZE +AUTOV2 +STATUS$/)
    expect(lines[1]).toMatch(/^demo-anime\.safetensors +sd1 +- +eps +F16 +\d+\.\d+ KiB +- +ok$/)
    expect(lines[4]).toMatch(/^xl\/broken\.safetensors +- +- +- +- +\d+ B +- +error: header is not valid JSON/)
    expect(lines[5]).toMatch(/^xl\/inpaint\.safetensors +sdxl +inpainting +eps +BF16 /)
    expect(lines.at(-1)).toBe('5 models; 1 with errors')
  })

  it('--json prints the entries; --hash fills in AutoV2', async () => {
    const dir = await folder()
    const run = await amalgam('scan', dir, '--json', '--hash')
    expect(run.code).toBe(0)
    const entries = z.array(ModelEntry).parse(JSON.parse(run.out))
    expect(entries).toHaveLength(5)
    const base = entries.find((e) => e.name === 'demo-base.safetensors')!
    expect(base.hashes.sha256).toBe(hashFileSync(base.path, null).sha256)
    expect(entries.find((e) => e.name === 'broken.safetensors')!.hashes.sha256).toBeNull()
    const table = await amalgam('scan', dir)
    expect(table.out).toMatch(new RegExp(`demo-base\\.safetensors .* ${base.hashes.autov2!} +ok`))
  })

  it('an unreadable or missing folder is an error naming it, exit 1', async () => {
    const dir = tempDir()
    const missing = join(dir, 'nope')
    expectOneLineError(await amalgam('scan', missing), 'scan', missing, /file not found/)
    writeFileSync(join(dir, 'file.safetensors'), 'x')
    const notFolder = await amalgam('scan', join(dir, 'file.safetensors'))
    expect(notFolder.code).toBe(1)
    expectOneLineError(notFolder, 'scan', join(dir, 'file.safetensors'), /is a file, not a folder/)
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked')
      mkdirSync(locked)
      chmodSync(locked, 0o000)
      expectOneLineError(await amalgam('scan', locked), 'scan', locked, /permission denied/)
      chmodSync(locked, 0o755)
    }
    expect((await amalgam('scan')).code).toBe(2)
  })
})
