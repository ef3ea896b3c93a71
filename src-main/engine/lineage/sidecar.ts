import { copyFile, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import { Lineage } from '../../common/lineage'
import { AmalgamError } from '../errors'
import { ioError } from '../formats/file-io'

/** `<dir>/<name>.<ext>` → `<dir>/<name><suffix>`: where a file's sidecars live. */
export function sidecarPath(outputPath: string, suffix: string): string {
  const name = basename(outputPath)
  return join(dirname(outputPath), `${name.slice(0, name.length - extname(name).length)}${suffix}`)
}

export function lineagePathFor(outputPath: string): string {
  return sidecarPath(outputPath, '.lineage.json')
}

/** A Hugging Face folder output keeps its lineage inside, so the folder is the whole model. */
export function lineagePathInFolder(folder: string): string {
  return join(folder, 'amalgam.lineage.json')
}

/** Writes the lineage sidecar (checked against its schema) through `<path>.partial`, durably, then renames it. */
export async function writeLineageSidecar(path: string, lineage: Lineage): Promise<void> {
  const checked = Lineage.safeParse(lineage)
  if (!checked.success) throw new AmalgamError('INTERNAL', `${path}: the lineage does not match its schema: ${checked.error.issues[0]?.message ?? 'invalid'}`)
  await writeDurably(path, async (partial) => {
    const handle = await open(partial, 'w')
    try {
      await handle.writeFile(`${JSON.stringify(checked.data, null, 2)}\n`)
      await handle.sync()
    } finally {
      await handle.close()
    }
  })
}

/** Copies `a`'s config .yaml (SD2 768-v models need it in A1111) beside the output, as `<output name>.yaml`. */
export async function copySidecarYaml(yamlPath: string, outputPath: string): Promise<string> {
  const target = sidecarPath(outputPath, '.yaml')
  await writeDurably(target, async (partial) => {
    try {
      await copyFile(yamlPath, partial)
    } catch (err) {
      throw ioError(err, yamlPath, `copying it to ${partial}`)
    }
  })
  return target
}

async function writeDurably(path: string, write: (partial: string) => Promise<void>): Promise<void> {
  const partial = `${path}.partial`
  try {
    await write(partial)
    await rename(partial, path)
  } catch (err) {
    await unlink(partial).catch(() => undefined)
    throw ioError(err, path)
  }
}
