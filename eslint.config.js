// Lint enforces the runtime layers: each folder may only import what can run where it runs.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import reactHooks from 'eslint-plugin-react-hooks'
import { builtinModules } from 'node:module'

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)]

const layer = (files, { paths = [], patterns = [] }) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
})

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'coverage/**', 'test-results/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', 'bin/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  // The shared contract is plain data and schemas: it runs in main, preload and renderer alike.
  layer(['src-main/common/**'], {
    paths: [...nodeBuiltins, 'electron', 'react'].map((name) => ({ name, message: 'common/ is the shared contract: zod only.' })),
    patterns: [{ group: ['**/engine/**', '**/engine', '**/services/**', '**/shell/**', '../*/**', '!./**'], message: 'common/ imports nothing but itself and zod.' }],
  }),
  // The engine is pure Node: no Electron, no UI.
  layer(['src-main/engine/**'], {
    paths: ['electron', 'electron-store', 'react', 'react-dom'].map((name) => ({ name, message: 'The engine is pure Node (no Electron, no React).' })),
    patterns: [{ group: ['**/shell/**', '**/services/**', '**/server/**', '**/cli/**', '**/src-renderer/**'], message: 'The engine does not depend on the layers above it.' }],
  }),
  // Services, CLI, server and merge host run in plain Node too: only the shell may touch Electron.
  layer(['src-main/services/**', 'src-main/cli/**', 'src-main/server/**', 'src-main/merge-host/**'], {
    paths: ['electron', 'electron-store'].map((name) => ({ name, message: 'Only src-main/shell may import Electron.' })),
    patterns: [{ group: ['**/shell/**', '**/src-renderer/**'], message: 'Only the Electron entry depends on the shell.' }],
  }),
  // The renderer runs in a sandboxed page: no Node, no engine, talks to main only through the contract.
  layer(['src-renderer/**'], {
    paths: [...nodeBuiltins, 'electron'].map((name) => ({ name, message: 'The renderer has no Node or Electron APIs; use window.amalgam.' })),
    patterns: [{ group: ['**/engine/**', '**/services/**', '**/shell/**', '**/cli/**', '**/server/**', '**/merge-host/**'], message: 'The renderer may import only src-main/common.' }],
  }),
  // The preload is one sandboxed CJS bundle: Electron's bridge plus channel names, nothing else.
  layer(['src-preload/**'], {
    paths: nodeBuiltins.map((name) => ({ name, message: 'A sandboxed preload cannot load Node modules.' })),
    patterns: [{ regex: '^(?!electron$|\\.\\./src-main/common/ipc-channels$)', message: 'The preload imports only electron and the shared channel list.' }],
  }),
  {
    files: ['src-renderer/**/*.tsx', 'src-renderer/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { ...reactHooks.configs.recommended.rules },
  },
)
