import { useEffect, useState } from 'react'
import { BuilderPanel } from '../features/builder/BuilderPanel'
import { useBuilderStore } from '../features/builder/builder-store'
import { useMethodsStore } from '../features/builder/methods-store'
import { HistoryPanel } from '../features/history/HistoryPanel'
import { LibraryPanel } from '../features/library/LibraryPanel'
import { useLibraryStore } from '../features/library/library-store'
import { ModelDrawer } from '../features/library/ModelDrawer'
import { usePreflightRunner } from '../features/preflight/preflight-store'
import { PresetsPanel } from '../features/presets/PresetsPanel'
import { usePresetsStore } from '../features/presets/presets-store'
import { MergeBar } from '../features/run/MergeBar'
import { StatusBar } from '../features/status/StatusBar'
import { useStatusStore } from '../features/status/status-store'
import { Tabs } from '../ui/Tabs'
import { Announcer } from './announcer'
import { useBridgeEvents } from './use-bridge-events'

type LeftTab = 'library' | 'history' | 'presets'

const TABS: readonly { id: LeftTab; label: string }[] = [
  { id: 'library', label: 'Library' },
  { id: 'history', label: 'History' },
  { id: 'presets', label: 'Presets' },
]

/** One window: the library (or history, presets) on the left, the builder and its run on the right. */
export function App() {
  const [tab, setTab] = useState<LeftTab>('library')
  useBridgeEvents()
  usePreflightRunner()
  useEffect(() => {
    void useStatusStore
      .getState()
      .load()
      .then(() => {
        const settings = useStatusStore.getState().settings
        if (settings) useBuilderStore.getState().applyDefaults({ dtype: settings.defaultOutputDType, embedRecipe: settings.embedRecipe, folder: settings.outputFolder ?? '' })
      })
    void useLibraryStore.getState().refresh()
    void useMethodsStore.getState().load()
    void usePresetsStore.getState().refresh()
  }, [])

  return (
    <div className="flex h-full min-h-0 flex-col">
      <header className="flex shrink-0 items-center gap-4 border-b border-neutral-800 bg-neutral-900 px-3 py-1.5">
        <h1 className="text-sm font-semibold tracking-wide text-neutral-100">Amalgam</h1>
        <StatusBar />
      </header>
      <main className="flex min-h-0 flex-1">
        <div className="flex min-h-0 w-1/2 min-w-0 flex-col border-r border-neutral-800">
          <Tabs<LeftTab> label="Workspace" tabs={TABS} current={tab} onSelect={setTab} className="min-h-0 flex-1">
            {tab === 'library' && <LibraryPanel />}
            {tab === 'history' && <HistoryPanel />}
            {tab === 'presets' && <PresetsPanel />}
          </Tabs>
        </div>
        <div className="flex min-h-0 w-1/2 min-w-0 flex-col">
          <BuilderPanel />
          <MergeBar />
        </div>
      </main>
      <ModelDrawer />
      <Announcer />
    </div>
  )
}
