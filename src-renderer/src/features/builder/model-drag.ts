import type { DragEvent } from 'react'
import { getBridge } from '../../bridge/bridge'

/** The drag type of a library row; its data is the model's path. */
export const MODEL_DRAG_TYPE = 'application/x-amalgam-model'

export function startModelDrag(event: DragEvent, path: string): void {
  event.dataTransfer.setData(MODEL_DRAG_TYPE, path)
  event.dataTransfer.setData('text/plain', path)
  event.dataTransfer.effectAllowed = 'copy'
}

export function isModelDrag(event: DragEvent): boolean {
  const types = event.dataTransfer.types
  return types.includes(MODEL_DRAG_TYPE) || types.includes('Files')
}

export type DroppedModel = { path: string } | { problem: string } | null

/**
 * The model a drop carries: a library row, or (desktop app only) a file from the system's file
 * manager, whose path only Electron can tell. A browser page never learns local paths.
 */
export function droppedModel(event: DragEvent): DroppedModel {
  const path = event.dataTransfer.getData(MODEL_DRAG_TYPE)
  if (path) return { path }
  const file = event.dataTransfer.files[0]
  if (!file) return null
  const pathForFile = getBridge().pathForFile
  if (!pathForFile) return { problem: `${file.name}: files dropped from your computer can only be used in the desktop app; here, drag a library row or use Browse…` }
  const filePath = pathForFile(file)
  return filePath ? { path: filePath } : { problem: `${file.name}: this drop did not carry a file path` }
}
