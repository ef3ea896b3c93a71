import { resolve } from 'node:path'
import { build, type InlineConfig } from 'vite'
import config from '../../../electron.vite.config'

let built: Promise<string> | null = null

const OUT_DIR = resolve(import.meta.dirname, '../../../test-results/renderer')

/**
 * Builds the renderer once per test file into test-results/renderer, with the renderer section of
 * electron.vite.config.ts: the tests always see the current source, and they do not depend on the
 * main and preload bundles building.
 */
export function buildRenderer(): Promise<string> {
  built ??= (async () => {
    if (typeof config !== 'object' || !('renderer' in config) || !config.renderer) throw new Error('electron.vite.config.ts: no renderer section')
    const renderer = config.renderer as InlineConfig
    await build({
      ...renderer,
      configFile: false,
      base: './',
      logLevel: 'warn',
      build: { ...renderer.build, outDir: OUT_DIR, emptyOutDir: true },
    })
    return OUT_DIR
  })()
  return built
}
