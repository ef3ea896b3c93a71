import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** native/src/addon.c, built by `npm install` (scripts/build-native.mjs) */
export interface NativeAddon {
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): void
  /** the matrix product's micro-kernel on this CPU: 'avx2' or 'portable' */
  kernel(): string
  /** whether decodeF16 / encodeF16 work on this CPU (they need F16C) */
  hasF16c(): boolean
  decodeF16(src: Uint16Array, dst: Float32Array): void
  encodeF16(src: Float32Array, dst: Uint16Array): void
}

export type NativeAddonStatus = { readonly addon: NativeAddon } | { readonly reason: string }

const ADDON_PATH = join('native', 'build', 'Release', 'amalgam_native.node')

let loaded: NativeAddonStatus | null = null

/**
 * The native addon, or why there is none (not built, AMALGAM_NATIVE=off). Loaded once per thread;
 * everything it offers has a JavaScript / tfjs fallback, so its absence is never an error.
 */
export function nativeAddon(): NativeAddonStatus {
  loaded ??= process.env.AMALGAM_NATIVE === 'off' ? { reason: 'AMALGAM_NATIVE=off' } : findAddon()
  return loaded
}

function findAddon(): NativeAddonStatus {
  // the sources (src-main/engine/compute) and electron-vite's bundle (out/main) sit at different
  // depths below the project root, so the addon is looked for upwards
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, ADDON_PATH)
    if (existsSync(candidate)) {
      try {
        const module: unknown = createRequire(import.meta.url)(candidate)
        return isAddon(module) ? { addon: module } : { reason: `${candidate} is not this version's native addon (run npm install)` }
      } catch (err) {
        return { reason: `${candidate} did not load: ${err instanceof Error ? err.message : String(err)}` }
      }
    }
    dir = dirname(dir)
  }
  return { reason: 'native addon not built (npm install compiles it; it needs a C compiler)' }
}

function isAddon(value: unknown): value is NativeAddon {
  const candidate = value as Partial<Record<keyof NativeAddon, unknown>> | null
  return (['gemm', 'kernel', 'hasF16c', 'decodeF16', 'encodeF16'] as const).every((name) => typeof candidate?.[name] === 'function')
}
