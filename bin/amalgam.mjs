#!/usr/bin/env node
// The CLI runs the engine from its TypeScript sources through tsx (no build step needed);
// the Electron app runs the same code from electron-vite's bundle.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src-main/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
