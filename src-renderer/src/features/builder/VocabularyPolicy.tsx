import { isModelInput, type VocabularyPolicy } from '../../../../src-main/common/recipe'
import { SelectField } from '../../ui/Field'
import { useLibraryStore } from '../library/library-store'
import { useBuilderStore } from './builder-store'
import { roleName } from './draft'

/** The policy as a select value: '' = refuse (the recipe leaves it out), 'fit-to-a', 'take:N'. */
function policyValue(policy: VocabularyPolicy | undefined): string {
  if (policy === undefined) return ''
  return policy === 'fit-to-a' ? policy : `take:${policy.take}`
}

function policyOf(value: string): VocabularyPolicy | undefined {
  if (value === 'fit-to-a') return value
  const take = /^take:(\d+)$/.exec(value)
  return take ? { take: Number(take[1]) } : undefined
}

/** options.vocabulary: what a merge of language models with different vocabularies does. */
export function VocabularyPolicyField({ label }: { label: string }) {
  const policy = useBuilderStore((s) => s.draft.options.vocabulary)
  const inputCount = useBuilderStore((s) => s.draft.inputs.length)
  const edit = useBuilderStore((s) => s.edit)
  return (
    <SelectField
      label={label}
      value={policyValue(policy)}
      options={[
        { value: '', label: 'refuse to merge them' },
        { value: 'fit-to-a', label: 'fit to a’s vocabulary (merge the shared rows)' },
        ...Array.from({ length: inputCount }, (_, i) => ({ value: `take:${i}`, label: `take embeddings, head and tokenizer from ${roleName(i)}` })),
      ]}
      hint="Rows of different vocabularies are different tokens: choose which vocabulary the output keeps."
      onChange={(v) => edit((d) => ({ ...d, options: { ...d.options, vocabulary: policyOf(v) } }))}
    />
  )
}

/**
 * Under the slots when the library says the chosen language models have different vocabulary
 * sizes: the planner refuses such a merge until a policy is chosen, so the choice is offered here.
 */
export function VocabularyNotice() {
  const inputs = useBuilderStore((s) => s.draft.inputs)
  const entries = useLibraryStore((s) => s.snapshot?.entries)
  const sizes = inputs.flatMap((input, i) => {
    const path = input !== null && isModelInput(input) ? input.model : null
    const size = entries?.find((e) => e.path === path)?.llm?.vocabSize
    return size === undefined || size === null ? [] : [{ role: roleName(i), size }]
  })
  if (new Set(sizes.map((s) => s.size)).size < 2) return null
  return (
    <div role="group" aria-label="Vocabularies differ" className="mt-2 flex flex-col gap-1 rounded border border-amber-800/70 bg-amber-950/30 px-2 py-1.5">
      <p className="text-xs text-amber-200">
        The vocabularies differ ({sizes.map((s) => `${s.role}: ${s.size} tokens`).join(', ')}): the merge is refused until you choose what the output keeps.
      </p>
      <VocabularyPolicyField label="Vocabulary of the output" />
    </div>
  )
}
