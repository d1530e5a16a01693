// The Node.js version check the installed command does before importing anything else (bin.ts). This module
// imports nothing, so it loads on any Node.js that runs ES modules.

/** The oldest Node.js Driftwatch runs on: package.json `engines.node` (node-version.spec.ts holds them together). */
export const MINIMUM_NODE = [22, 19, 0] as const;

/** The one line an older Node.js gets, or undefined when `version` (process.versions.node) is recent enough. */
export function nodeVersionRefusal(version: string): string | undefined {
  const have = version.split(".").map((part) => Number.parseInt(part, 10));
  for (let i = 0; i < MINIMUM_NODE.length; i++) {
    const part = have[i] ?? 0;
    if (part > MINIMUM_NODE[i]!) return undefined;
    if (part < MINIMUM_NODE[i]!) {
      return `driftwatch needs Node.js ${MINIMUM_NODE.join(".")} or later, and this is Node.js ${version}: install Node.js 22.19+ or 24 (https://nodejs.org, or your package manager), then run driftwatch again.`;
    }
  }
  return undefined;
}
