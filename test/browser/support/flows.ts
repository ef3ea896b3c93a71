import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { writeDemoModels } from './demo-catalogue'
import type { Amalgam } from './serve'

/** A library folder with the scripted engine's demo models, inside the test's work folder. */
export function modelsFolder(workDir: string): string {
  const folder = join(workDir, 'models')
  mkdirSync(folder, { recursive: true })
  writeDemoModels(folder)
  return folder
}

/** Fills builder slots from library rows with the row buttons ("Use X as a"). */
export async function useModels(page: Page, assignments: Record<string, string>): Promise<void> {
  await page.getByRole('row', { name: Object.values(assignments)[0] }).waitFor()
  for (const [slot, name] of Object.entries(assignments)) await page.getByRole('button', { name: `Use ${name} as ${slot}`, exact: true }).click()
}

export async function waitForReady(page: Page): Promise<void> {
  await page.getByText('The pre-flight check passed.').waitFor()
}

/** The page ended without uncaught errors or console errors. */
export async function closeClean(amalgam: Amalgam | null): Promise<void> {
  if (!amalgam) return
  const problems = [...amalgam.problems]
  await amalgam.close()
  expect(problems).toEqual([])
}
