// Which stacks a report covers: names or globs (`*` any run of characters, `?` one), none meaning every stack.
import type { StackConfig } from "../config/types.ts";

function globRegExp(glob: string): RegExp {
  const body = [...glob].map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))).join("");
  return new RegExp(`^${body}$`, "su");
}

export function isGlob(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes("?");
}

/** The configured stacks the patterns select, in configuration order; every stack when there are none. */
export function stacksMatching<S extends Pick<StackConfig, "name">>(stacks: readonly S[], patterns: readonly string[] = []): S[] {
  if (patterns.length === 0) return [...stacks];
  const matchers = patterns.map(globRegExp);
  return stacks.filter((s) => matchers.some((m) => m.test(s.name)));
}
