// A merge host process for the supervisor tests: the real host loop (protocol, one job at a time,
// terminal events) driving a scripted stand-in for the engine, chosen by the recipe's name.
import { writeFileSync } from 'node:fs'
import type { MergeEvent } from '../../../src-main/common/events'
import type { Recipe } from '../../../src-main/common/recipe'
import { AmalgamError } from '../../../src-main/engine/errors'
import { parentChannel } from '../../../src-main/merge-host/channel'
import { serveHost } from '../../../src-main/merge-host/host-loop'
import { testLineage, testPlanSummary } from './fixtures'

const never = new Promise<void>(() => undefined)

async function scripted(recipe: Recipe, { signal, onEvent }: { signal: AbortSignal; onEvent: (event: MergeEvent) => void }): Promise<void> {
  const partial = `${recipe.output.path}.partial`
  onEvent({ type: 'started', plan: testPlanSummary(recipe) })
  onEvent({ type: 'phase', phase: 'merging' })
  switch (recipe.name) {
    case 'quick':
      for (let i = 0; i < 3; i++) {
        onEvent({ type: 'progress', phase: 'merging', index: i, total: 3, key: `k${i}`, bytesDone: i + 1, bytesTotal: 3, elapsedMs: i, etaMs: null })
      }
      writeFileSync(recipe.output.path, 'merged')
      onEvent({ type: 'done', path: recipe.output.path, lineagePath: `${recipe.output.path}.lineage.json`, durationMs: 5, lineage: testLineage(recipe) })
      return
    case 'fail':
      throw new AmalgamError('INCOMPATIBLE_MODELS', '/models/b.safetensors: is an SDXL model, a is SD 1.x')
    case 'cooperative':
      // stops between keys once cancelled, the way the engine does
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()))
      throw new AmalgamError('CANCELLED', 'cancelled')
    case 'hang':
      // ignores cancel with a partial file on disk: the supervisor must kill it and clean up
      writeFileSync(partial, 'half written')
      return never
    case 'crash':
      writeFileSync(partial, 'half written')
      process.exit(1)
      return never
    default:
      throw new Error(`scripted host: no script "${recipe.name}"`)
  }
}

serveHost(parentChannel(), scripted)
