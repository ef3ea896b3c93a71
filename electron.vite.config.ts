import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'
import tailwindcss from '@tailwindcss/vite'

const r = (p: string): string => resolve(import.meta.dirname, p)

export default defineConfig({
  main: {
    build: {
      // Entries that run in separate processes or threads are bundled side by side so the shell
      // can locate them next to its own bundle (see src-main/engine/runtime/entry-points.ts).
      lib: {
        entry: {
          index: r('src-main/index.ts'),
          'merge-host': r('src-main/merge-host/main.ts'),
          'engine-worker': r('src-main/engine/worker-entry.ts'),
        },
      },
      externalizeDeps: { include: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] },
    },
  },
  preload: {
    build: {
      lib: { entry: r('src-preload/index.ts'), formats: ['cjs'], fileName: () => 'index.cjs' },
    },
  },
  renderer: {
    root: r('src-renderer'),
    build: { rolldownOptions: { input: r('src-renderer/index.html') } },
    plugins: [react(), tailwindcss()],
  },
})
