import { basename } from 'node:path'
import type { Recipe } from '../../common/recipe'
import { ENGINE_VERSION } from '../lineage/engine-version'

export interface ModelCardOptions {
  readonly name: string
  /** the recipe as planned (absolute paths, explicit parameters) */
  readonly recipe: Recipe
  /** every input model by role */
  readonly inputs: readonly { readonly role: string; readonly path: string }[]
}

/**
 * README.md for a merged Hugging Face folder, laid out like mergekit's (METHODS.md §11): YAML front
 * matter with the merged models under base_model, the tags and library_name the Hub filters on; then
 * the method, the base model when the recipe has one, the merged models, and the recipe itself. The
 * models are named by folder name: Amalgam cannot know which Hub repositories local folders came from.
 */
export function modelCard(opts: ModelCardOptions): string {
  const byPath = new Map<string, string[]>()
  for (const input of opts.inputs) byPath.set(input.path, [...(byPath.get(input.path) ?? []), input.role])
  const models = [...byPath].map(([path, roles]) => ({ name: basename(path), path, roles }))
  const base = opts.inputs.find((i) => i.role === 'base')
  const lines = [
    '---',
    'base_model:',
    ...models.map((m) => `- ${yamlString(m.name)}`),
    'library_name: transformers',
    'tags:',
    '- mergekit',
    '- merge',
    '- amalgam',
    '---',
    `# ${opts.name}`,
    '',
    `This is a merge of pre-trained language models made with Amalgam ${ENGINE_VERSION}.`,
    '',
    '## Merge Details',
    '### Merge Method',
    '',
    `This model was merged using the \`${opts.recipe.merge.method}\` merge method${base === undefined ? '' : ` using ${basename(base.path)} as a base`}.`,
    '',
    '### Models Merged',
    '',
    'The following models were included in the merge:',
    ...models.map((m) => `* ${m.name} (${m.roles.join(', ')}: \`${m.path}\`)`),
    '',
    '### Configuration',
    '',
    'The following Amalgam recipe was used to produce this model (`amalgam merge` runs it again):',
    '',
    '```json',
    JSON.stringify(opts.recipe, null, 2),
    '```',
    '',
  ]
  return lines.join('\n')
}

/** A YAML scalar that stays a string whatever the folder is called. */
function yamlString(text: string): string {
  return JSON.stringify(text)
}
