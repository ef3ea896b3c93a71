import { vi } from 'vitest'

// The same cases as codecs.test.ts, with the native addon hidden: where the addon is built (CI),
// codecs.test.ts exercises its F16C conversions and this file the JavaScript loops they replace.
vi.mock('../../src-main/engine/compute/native-addon', () => ({ nativeAddon: () => ({ reason: 'hidden: the portable codecs are under test' }) }))

await import('./codecs.test')
