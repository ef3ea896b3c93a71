import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

const CHROMIUM = process.env.AMALGAM_CHROMIUM ?? '/usr/bin/chromium'
/** Debian's Chromium as root in a container: no sandbox, no GPU, /tmp instead of a small /dev/shm. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check', '--disable-background-networking']
const SCREENSHOTS = resolve(import.meta.dirname, '../../../test-results/screenshots')

export interface OpenPage {
  readonly page: Page
  readonly context: BrowserContext
  /** uncaught exceptions and console errors the page reported: a test ends by expecting none */
  readonly problems: string[]
  /** saves test-results/screenshots/<name>.png */
  screenshot(name: string): Promise<void>
  close(): Promise<void>
}

/** A fresh Chromium profile at 1280×800 (the smallest window the app is designed for), on `url`. */
export async function openPage(url: string): Promise<OpenPage> {
  const profile = mkdtempSync(join(tmpdir(), 'amalgam-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`)
  })
  await page.goto(url)
  return {
    page,
    context,
    problems,
    async screenshot(name) {
      mkdirSync(SCREENSHOTS, { recursive: true })
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) })
    },
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
