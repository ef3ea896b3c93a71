import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { _electron } from 'playwright-core'
import { describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const mainEntry = join(root, 'out/main/index.js')

/** The Electron binary the electron package installed, or null where it could not be downloaded. */
function electronBinary(): string | null {
  const electronDir = dirname(createRequire(join(root, 'package.json')).resolve('electron/package.json'))
  const pathFile = join(electronDir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const binary = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(binary) ? binary : null
}

const binary = electronBinary()
if (binary === null) console.log('electron smoke test skipped: no Electron binary on this machine (the electron package could not download it)')

describe.skipIf(binary === null || !existsSync(mainEntry))('the packaged Electron app', () => {
  it('launches, shows the library in a sandboxed window and quits cleanly', async () => {
    const userData = mkdtempSync(join(tmpdir(), 'amalgam-electron-'))
    // Chromium refuses its sandbox as root (containers); elsewhere the real sandbox stays on
    const rootArgs = process.getuid?.() === 0 ? ['--no-sandbox'] : []
    const app = await _electron.launch({ executablePath: binary ?? '', args: [...rootArgs, mainEntry, `--user-data-dir=${userData}`] })
    try {
      const window = await app.firstWindow()
      await window.getByRole('tab', { name: 'Library' }).waitFor()
      const isolated = await window.evaluate(() => typeof (globalThis as { require?: unknown }).require === 'undefined')
      expect(isolated).toBe(true)
    } finally {
      await app.close()
      rmSync(userData, { recursive: true, force: true })
    }
  })
})
