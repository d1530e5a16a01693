/** The first x.y.z in a version string ("v3.259.0", "OpenTofu v1.12.6"), or undefined. */
export function parseVersion(text: string): [number, number, number] | undefined {
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export function versionString(text: string): string | undefined {
  return parseVersion(text)?.join(".");
}

/** Whether `found` is at least `wanted`; false when either is not a version. */
export function atLeast(found: string, wanted: string): boolean {
  const a = parseVersion(found);
  const b = parseVersion(wanted);
  if (!a || !b) return false;
  for (let i = 0; i < 3; i++) {
    if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  }
  return true;
}
