import type { MethodAlias, MethodInfo } from '../../../../src-main/common/method-info'

export interface ResolvedMethod {
  readonly info: MethodInfo
  /** set when the recipe names the method by an alias that fixes parameters */
  readonly alias: MethodAlias | null
}

/** The method a recipe names, by id or alias (the recipe may use either). */
export function resolveMethod(methods: readonly MethodInfo[], name: string): ResolvedMethod | null {
  for (const info of methods) {
    if (info.id === name) return { info, alias: null }
    const alias = info.aliases.find((a) => a.name === name)
    if (alias) return { info, alias }
  }
  return null
}
