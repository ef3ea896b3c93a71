import { create } from 'zustand'
import type { MergeEvent, MergePhase } from '../../../../src-main/common/events'
import type { EventPayload, Result } from '../../../../src-main/common/ipc'
import type { PlanSummary } from '../../../../src-main/common/plan-summary'
import type { Recipe } from '../../../../src-main/common/recipe'
import { announce } from '../../app/announcer'
import { call, type CallError } from '../../app/call'
import { basename } from '../../app/paths'

export type ProgressEvent = Extract<MergeEvent, { type: 'progress' }>
export type TerminalEvent = Extract<MergeEvent, { type: 'done' | 'failed' | 'cancelled' }>

export interface JobView {
  readonly jobId: string
  /** the recipe this window started; null for jobs started elsewhere (another window, the CLI host) */
  recipe: Recipe | null
  plan: PlanSummary | null
  phase: MergePhase | null
  progress: ProgressEvent | null
  warnings: { key?: string; message: string }[]
  terminal: TerminalEvent | null
  cancelRequested: boolean
}

interface RunState {
  jobs: Record<string, JobView>
  /** the job the run panel follows */
  currentJobId: string | null
  startError: CallError | null
  cancelError: CallError | null
  /** merge.event from main; events may arrive before merge.start has answered with the job id */
  receive(payload: EventPayload<'merge.event'>): void
  start(recipe: Recipe): Promise<Result<{ jobId: string }>>
  cancel(): Promise<void>
  dismiss(): void
}

const emptyJob = (jobId: string): JobView => ({ jobId, recipe: null, plan: null, phase: null, progress: null, warnings: [], terminal: null, cancelRequested: false })

function applyEvent(job: JobView, event: MergeEvent): JobView {
  switch (event.type) {
    case 'started':
      return { ...job, plan: event.plan }
    case 'phase':
      return { ...job, phase: event.phase }
    case 'progress':
      return { ...job, phase: event.phase, progress: event }
    case 'warning':
      return { ...job, warnings: [...job.warnings, { ...(event.key === undefined ? {} : { key: event.key }), message: event.message }] }
    case 'done':
    case 'failed':
    case 'cancelled':
      return { ...job, terminal: event }
  }
}

function describeEnd(event: TerminalEvent): string {
  if (event.type === 'done') return `Merge finished: ${basename(event.path)}.`
  if (event.type === 'failed') return `Merge failed: ${event.error.message}`
  return 'Merge cancelled.'
}

export const useRunStore = create<RunState>()((set, get) => ({
  jobs: {},
  currentJobId: null,
  startError: null,
  cancelError: null,
  receive({ jobId, event }) {
    const job = get().jobs[jobId] ?? emptyJob(jobId)
    set((s) => ({ jobs: { ...s.jobs, [jobId]: applyEvent(job, event) } }))
    if ((event.type === 'done' || event.type === 'failed' || event.type === 'cancelled') && jobId === get().currentJobId) announce(describeEnd(event))
  },
  async start(recipe) {
    set({ startError: null, cancelError: null })
    const result = await call('merge.start', { recipe })
    if (!result.ok) {
      set({ startError: result.error })
      return result
    }
    const { jobId } = result.value
    set((s) => ({ currentJobId: jobId, jobs: { ...s.jobs, [jobId]: { ...(s.jobs[jobId] ?? emptyJob(jobId)), recipe } } }))
    announce('Merge started.')
    return result
  },
  async cancel() {
    const jobId = get().currentJobId
    if (jobId === null) return
    set((s) => ({ cancelError: null, jobs: { ...s.jobs, [jobId]: { ...(s.jobs[jobId] ?? emptyJob(jobId)), cancelRequested: true } } }))
    const result = await call('merge.cancel', { jobId })
    if (!result.ok) set({ cancelError: result.error })
  },
  dismiss: () => set({ currentJobId: null, startError: null, cancelError: null }),
}))

export function useCurrentJob(): JobView | null {
  return useRunStore((s) => (s.currentJobId === null ? null : (s.jobs[s.currentJobId] ?? null)))
}
