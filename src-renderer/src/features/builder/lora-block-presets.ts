/**
 * The LoRA block-weight presets the engine knows (src-main/engine/lora/block-weights.ts LBW_PRESETS).
 * Only the names are needed here and the renderer cannot import the engine, so they are repeated;
 * test/renderer/lora-slices-draft.test.ts checks that the two lists match.
 */
export const LORA_BLOCK_PRESETS: readonly string[] = ['NONE', 'ALL', 'INS', 'IND', 'INALL', 'MIDD', 'OUTD', 'OUTS', 'OUTALL', 'ALL0.5']
