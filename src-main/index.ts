// The Electron main process entry. electron-vite bundles it as out/main/index.js, beside the
// preload (out/preload) and renderer (out/renderer) outputs it points the shell at.
import { join } from 'node:path'
import { createEngineBackends } from './services/engine-backends'
import { runShell } from './shell/app-shell'

runShell({ preload: join(import.meta.dirname, '../preload/index.cjs'), rendererRoot: join(import.meta.dirname, '../renderer') }, createEngineBackends)
