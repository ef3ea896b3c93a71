import { copyFile, lstat, mkdir, open, rename, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { MergeEvent } from '../../common/events'
import type { Lineage } from '../../common/lineage'
import { AmalgamError, describeError, fileError, isAmalgamError } from '../errors'
import { ioError } from '../formats/file-io'
import { openSafetensors } from '../formats/safetensors/reader'
import { layoutSafetensors } from '../formats/safetensors/writer'
import { lineagePathFor, lineagePathInFolder, writeLineageSidecar } from '../lineage/sidecar'
import type { Plan } from '../plan/types'
import type { PlannedFolderOutput } from './folder-output-plan'
import { groupIntoShards } from './shards'

export const SHARD_INDEX = 'model.safetensors.index.json'
/** the executor writes every tensor here first; one shard keeps it, more are cut from it */
const SINGLE_FILE = 'model.safetensors'
const COPY_BYTES = 16 << 20

interface RunOptions {
  readonly signal?: AbortSignal
  readonly onEvent?: (event: MergeEvent) => void
}

/**
 * Runs a plan whose output is a Hugging Face folder: everything is written into `<folder>.partial`
 * (the merged tensors as one safetensors file by the ordinary executor, then cut into shards of at
 * most `shardSize` bytes, the index, config.json, tokenizer files, README.md and the lineage), which
 * is renamed to the folder once complete. On failure or cancel the partial folder is removed. The
 * executor's `done` is replaced by one for the folder, sent once it exists under its name.
 */
export async function executeFolderPlan<O extends RunOptions>(plan: Plan, folder: PlannedFolderOutput, opts: O, run: (plan: Plan, opts: O) => Promise<Lineage>): Promise<Lineage> {
  const finalPath = plan.output.path
  const partialDir = `${finalPath}.partial`
  let ended = false
  const emit = (event: MergeEvent): void => {
    if (event.type === 'failed' || event.type === 'cancelled') ended = true
    opts.onEvent?.(event)
  }
  // only a partial folder this run made is removed on failure: another merge may be writing one
  let created = false
  try {
    await createPartialFolder(partialDir, plan.output.overwrite)
    created = true
    const { folder: _folder, ...innerOutput } = plan.output
    const inner: Plan = { ...plan, output: { ...innerOutput, path: join(partialDir, SINGLE_FILE), overwrite: false } }
    const lineage = await run(inner, {
      ...opts,
      // the executor's done names its single file; the folder's is sent once the folder exists
      onEvent: (event: MergeEvent) => {
        if (event.type !== 'done') emit(event)
      },
    })
    const cancelled = (): void => {
      if (opts.signal?.aborted) throw new AmalgamError('CANCELLED', 'cancelled')
    }
    cancelled()
    const shards = await cutShards(join(partialDir, SINGLE_FILE), partialDir, folder.shardSize, cancelled)
    await writeFolderFiles(partialDir, folder)
    await unlink(lineagePathFor(inner.output.path)).catch(() => undefined)
    // the run ends when the folder is complete, not when the executor's single file was
    const finishedAt = new Date()
    const finalLineage: Lineage = {
      ...lineage,
      output: { ...lineage.output, path: finalPath, size: shards.bytes },
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - Date.parse(lineage.startedAt),
    }
    await writeLineageSidecar(lineagePathInFolder(partialDir), finalLineage)
    cancelled()
    await replaceFolder(partialDir, finalPath, plan.output.overwrite)
    const lineagePath = lineagePathInFolder(finalPath)
    emit({ type: 'done', path: finalPath, lineagePath, durationMs: finalLineage.durationMs, lineage: finalLineage })
    return finalLineage
  } catch (err) {
    if (created) await rm(partialDir, { recursive: true, force: true }).catch(() => undefined)
    if (opts.signal?.aborted) {
      if (!ended) emit({ type: 'cancelled' })
      throw new AmalgamError('CANCELLED', `${finalPath}: the merge was cancelled; nothing was written`, finalPath)
    }
    const error = isAmalgamError(err) ? err : new AmalgamError('INTERNAL', describeError(err))
    if (!ended) emit({ type: 'failed', error: { code: error.code, message: error.message } })
    throw error
  }
}

async function createPartialFolder(dir: string, overwrite: boolean): Promise<void> {
  try {
    await mkdir(dir)
    return
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(err, dir)
  }
  if (!overwrite) throw fileError('OUTPUT_EXISTS', dir, 'a partial output folder already exists (another merge may be writing it; delete it if none is)')
  await rm(dir, { recursive: true, force: true })
  try {
    await mkdir(dir)
  } catch (err) {
    throw ioError(err, dir)
  }
}

/**
 * Cuts the merged file into shards the way mergekit does: tensors in order, a new shard when the
 * next tensor would take the current one past `shardSize` bytes; one shard stays model.safetensors,
 * more are model-0000i-of-0000N.safetensors with an index. The tensor bytes are copied unchanged, so
 * the tensor data of the shards in order is the merged file's (the lineage's tensorSha256 holds).
 * Returns the bytes of all shards.
 */
async function cutShards(mergedPath: string, dir: string, shardSize: number, cancelled: () => void): Promise<{ bytes: number }> {
  const merged = await openSafetensors(mergedPath)
  const groups = groupIntoShards(merged.tensors, (t) => t.locator.byteLength, shardSize)
  if (groups.length === 1) return { bytes: merged.fileSize }
  const width = Math.max(5, String(groups.length).length)
  const names = groups.map((_, i) => `model-${String(i + 1).padStart(width, '0')}-of-${String(groups.length).padStart(width, '0')}.safetensors`)
  const weightMap: Record<string, string> = {}
  let bytes = 0
  let dataBytes = 0
  const source = await openFile(mergedPath, 'r')
  try {
    for (const [i, group] of groups.entries()) {
      // the recipe and lineage metadata go with the first shard, where the library looks for them
      const layout = layoutSafetensors(group, i === 0 ? merged.metadata : {})
      const target = await openFile(join(dir, names[i]!), 'wx')
      try {
        await writeAll(target, layout.headerBytes, 0, names[i]!)
        for (const t of group) {
          cancelled()
          await copyRange(source, target, t.locator.offset, layout.dataStart + layout.offsets.get(t.key)!.begin, t.locator.byteLength, mergedPath)
          weightMap[t.key] = names[i]!
        }
        await target.sync()
      } finally {
        await target.close()
      }
      bytes += layout.totalBytes
      dataBytes += layout.totalBytes - layout.dataStart
    }
  } finally {
    await source.close()
  }
  await unlink(mergedPath).catch((err: unknown) => Promise.reject(ioError(err, mergedPath)))
  const index = { metadata: { total_size: dataBytes }, weight_map: weightMap }
  await writeFile(join(dir, SHARD_INDEX), `${JSON.stringify(index, null, 2)}\n`).catch((err: unknown) => Promise.reject(ioError(err, join(dir, SHARD_INDEX))))
  return { bytes }
}

async function writeFolderFiles(dir: string, folder: PlannedFolderOutput): Promise<void> {
  const write = async (name: string, text: string): Promise<void> => {
    await writeFile(join(dir, name), text).catch((err: unknown) => Promise.reject(ioError(err, join(dir, name))))
  }
  await write('config.json', `${JSON.stringify(folder.config, null, 2)}\n`)
  for (const file of folder.copyFiles) {
    await copyFile(file, join(dir, basename(file))).catch((err: unknown) => Promise.reject(ioError(err, file, `copying it into ${dir}`)))
  }
  await write('README.md', folder.modelCard)
}

/** Renames the finished folder into place; an existing folder is removed first only when overwriting (the plan refused it otherwise). */
async function replaceFolder(partialDir: string, finalPath: string, overwrite: boolean): Promise<void> {
  const existing = await lstat(finalPath).catch(() => null)
  if (existing !== null) {
    if (!overwrite) throw fileError('OUTPUT_EXISTS', finalPath, 'the output already exists (allow overwriting to replace it)')
    await rm(finalPath, { recursive: true, force: true }).catch((err: unknown) => Promise.reject(ioError(err, finalPath)))
  }
  try {
    await rename(partialDir, finalPath)
  } catch (err) {
    throw ioError(err, finalPath)
  }
}

async function openFile(path: string, flags: string): Promise<FileHandle> {
  try {
    return await open(path, flags)
  } catch (err) {
    throw ioError(err, path)
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number, path: string): Promise<void> {
  try {
    let done = 0
    while (done < bytes.length) done += (await handle.write(bytes, done, bytes.length - done, position + done)).bytesWritten
  } catch (err) {
    throw ioError(err, path)
  }
}

let copyBuffer: Uint8Array | null = null

async function copyRange(from: FileHandle, to: FileHandle, fromPosition: number, toPosition: number, length: number, fromPath: string): Promise<void> {
  copyBuffer ??= new Uint8Array(COPY_BYTES)
  for (let done = 0; done < length; ) {
    const want = Math.min(copyBuffer.length, length - done)
    let got: number
    try {
      got = (await from.read(copyBuffer, 0, want, fromPosition + done)).bytesRead
    } catch (err) {
      throw ioError(err, fromPath)
    }
    if (got === 0) throw fileError('FILE_UNREADABLE', fromPath, `ends before byte ${fromPosition + done}`)
    await writeAll(to, copyBuffer.subarray(0, got), toPosition + done, fromPath)
    done += got
  }
}
