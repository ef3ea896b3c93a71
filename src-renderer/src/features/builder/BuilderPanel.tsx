import { Button } from '../../ui/Button'
import { Section } from '../../ui/Section'
import { PreflightPanel } from '../preflight/PreflightPanel'
import { SaveMergePreset } from '../presets/SaveMergePreset'
import { AdvancedOptions } from './AdvancedOptions'
import { ComponentChoices } from './ComponentChoices'
import { InputSlots } from './InputSlots'
import { MethodPicker } from './MethodPicker'
import { OutputSettings } from './OutputSettings'
import { ParamControls } from './ParamControls'
import { SliceEditor, useSlicesApply } from './SliceEditor'
import { useBuilderStore } from './builder-store'
import { useUndoKeys } from './use-undo-keys'
import { VocabularyNotice } from './VocabularyPolicy'

/** The merge builder: one recipe, edited section by section, every edit undoable. */
export function BuilderPanel() {
  useUndoKeys()
  const canUndo = useBuilderStore((s) => s.past.length > 0)
  const canRedo = useBuilderStore((s) => s.future.length > 0)
  const undo = useBuilderStore((s) => s.undo)
  const redo = useBuilderStore((s) => s.redo)
  const notice = useBuilderStore((s) => s.notice)
  const dismissNotice = useBuilderStore((s) => s.dismissNotice)
  const slicesApply = useSlicesApply()
  return (
    <div className="flex min-h-0 flex-1 flex-col" aria-label="Merge builder" role="region">
      <div className="flex shrink-0 items-center gap-2 border-b border-neutral-800 px-3 py-1.5">
        <h2 className="flex-1 text-sm font-semibold">Merge builder</h2>
        <Button size="sm" variant="ghost" disabled={!canUndo} onClick={undo} title="Undo (Ctrl+Z)">
          Undo
        </Button>
        <Button size="sm" variant="ghost" disabled={!canRedo} onClick={redo} title="Redo (Shift+Ctrl+Z)">
          Redo
        </Button>
      </div>
      {notice && (
        <div role="status" className="flex shrink-0 items-center gap-2 border-b border-sky-900 bg-sky-950/50 px-3 py-1 text-xs text-sky-200">
          <span className="flex-1">{notice}</span>
          <button type="button" aria-label="Dismiss notice" onClick={dismissNotice}>
            ×
          </button>
        </div>
      )}
      <div className="min-h-0 flex-1 overflow-auto">
        <Section title="Method">
          <MethodPicker />
        </Section>
        <Section title="Models">
          <InputSlots />
          <VocabularyNotice />
        </Section>
        {slicesApply && (
          <Section title="Layer slices (frankenmerge)">
            <SliceEditor />
          </Section>
        )}
        <Section title="Parameters">
          <ParamControls />
        </Section>
        <Section title="Components">
          <ComponentChoices />
        </Section>
        <Section title="Output">
          <OutputSettings />
        </Section>
        <details className="border-b border-neutral-800 px-3 py-2">
          <summary className="cursor-pointer text-xs font-semibold tracking-wide text-neutral-400 uppercase">Keys and options</summary>
          <div className="mt-2">
            <AdvancedOptions />
          </div>
        </details>
        <Section title="Pre-flight check">
          <PreflightPanel />
        </Section>
        <Section title="Save as preset">
          <SaveMergePreset />
        </Section>
      </div>
    </div>
  )
}
