import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileListing } from '../../src-main/common/ipc'
import { createFiles } from '../../src-main/services/files'
import { amalgamErrorOf, useTempDir } from '../formats/support'

const tempDir = useTempDir()

function tree(): string {
  const root = tempDir()
  mkdirSync(join(root, 'diffusers-model'))
  writeFileSync(join(root, 'diffusers-model', 'model_index.json'), '{}')
  mkdirSync(join(root, 'hf-model'))
  writeFileSync(join(root, 'hf-model', 'config.json'), '{}')
  writeFileSync(join(root, 'hf-model', 'model.safetensors.index.json'), '{}')
  mkdirSync(join(root, 'just configs'))
  writeFileSync(join(root, 'just configs', 'config.json'), '{}')
  writeFileSync(join(root, 'b.safetensors'), '12345')
  writeFileSync(join(root, 'A.CKPT'), '1')
  writeFileSync(join(root, 'model10.pt'), '1')
  writeFileSync(join(root, 'model9.pt'), '1')
  writeFileSync(join(root, 'notes.txt'), 'hello')
  symlinkSync(join(root, 'b.safetensors'), join(root, 'link.safetensors'))
  symlinkSync(join(root, 'missing'), join(root, 'broken-link'))
  return root
}

describe('files.list', () => {
  it('lists folders first, then files, by name; marks checkpoints and model folders; follows symlinks', async () => {
    const root = tree()
    const listing = await createFiles('/home/nobody').list(root)
    expect(FileListing.safeParse(listing).success).toBe(true)
    expect(listing.path).toBe(root)
    expect(listing.parent).toBe(join(root, '..'))
    expect(listing.entries.map((e) => [e.name, e.kind, e.checkpoint])).toEqual([
      ['diffusers-model', 'dir', true],
      ['hf-model', 'dir', true],
      ['just configs', 'dir', false],
      ['A.CKPT', 'file', true],
      ['b.safetensors', 'file', true],
      ['link.safetensors', 'file', true],
      ['model9.pt', 'file', true],
      ['model10.pt', 'file', true],
      ['notes.txt', 'file', false],
    ])
    expect(listing.entries.find((e) => e.name === 'b.safetensors')).toMatchObject({ size: 5, path: join(root, 'b.safetensors') })
    expect(listing.entries.find((e) => e.name === 'hf-model')?.size).toBeNull()
  })

  it('starts at the home folder and stops at the root', async () => {
    const home = tree()
    expect((await createFiles(home).list()).path).toBe(home)
    expect((await createFiles(home).list('/')).parent).toBeNull()
  })

  it('says clearly what is wrong with a path', async () => {
    const root = tree()
    const files = createFiles(root)
    expect((await amalgamErrorOf(files.list(join(root, 'nope')))).message).toBe(`${join(root, 'nope')}: no such folder`)
    expect(await amalgamErrorOf(files.list(join(root, 'notes.txt')))).toMatchObject({ code: 'BAD_ARGUMENT', message: `${join(root, 'notes.txt')}: is a file, not a folder` })
    expect(await amalgamErrorOf(files.list('relative/path'))).toMatchObject({ code: 'BAD_ARGUMENT', message: 'relative/path: not an absolute path' })
  })

  it.skipIf(process.getuid?.() === 0)('reports an unreadable folder as permission denied', async () => {
    const root = tree()
    const locked = join(root, 'locked')
    mkdirSync(locked)
    chmodSync(locked, 0o000)
    try {
      expect(await amalgamErrorOf(createFiles(root).list(locked))).toMatchObject({ code: 'FILE_UNREADABLE', message: `${locked}: permission denied` })
    } finally {
      chmodSync(locked, 0o700)
    }
  })
})
