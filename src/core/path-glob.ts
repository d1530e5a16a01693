// Property paths and path globs, as alert redaction (`showValuesOf`) and ignore rules write them:
//   - segments are separated by "." or written as `[n]` (an array index) or `["odd key"]` (a quoted key);
//     an index is a segment like any other: `ingress[2].port`, `ingress.2.port` are the same glob;
//   - `*` (or `[*]`) is exactly one segment; `**` any number of segments, none included;
//   - anything else is literal (`tag*` is the key "tag*", not a prefix).

export type GlobSegment = { any: "one" } | { any: "many" } | { key: string };

/** One segment at the start of the rest of a path: `.key`, `key`, `[0]`, `[*]` or `["odd key"]`. */
const SEGMENT = /\.?([^.[\]]+)|\[(\d+|\*|"(?:[^"\\]|\\.)*")\]/y;

/** The segments of a path or glob as written, with `*`/`[*]` marked; undefined when it is not well formed. */
function parseSegments(text: string): { text: string; quoted: boolean }[] | undefined {
  const segments: { text: string; quoted: boolean }[] = [];
  for (let at = 0; at < text.length; at = SEGMENT.lastIndex) {
    SEGMENT.lastIndex = at;
    const match = SEGMENT.exec(text);
    if (!match || (at === 0 && text.startsWith("."))) return undefined;
    const bracketed = match[2];
    if (bracketed?.startsWith('"')) segments.push({ text: JSON.parse(bracketed) as string, quoted: true });
    else segments.push({ text: match[1] ?? bracketed!, quoted: false });
  }
  return segments.length > 0 ? segments : undefined;
}

/** A glob's segments, consecutive `**` collapsed; undefined when the glob is not well formed. */
export function parseGlob(glob: string): GlobSegment[] | undefined {
  const segments = parseSegments(glob);
  if (!segments) return undefined;
  const out: GlobSegment[] = [];
  for (const s of segments) {
    const segment: GlobSegment = s.quoted ? { key: s.text } : s.text === "**" ? { any: "many" } : s.text === "*" ? { any: "one" } : { key: s.text };
    const previous = out.at(-1);
    if (!("any" in segment && segment.any === "many" && previous && "any" in previous && previous.any === "many")) out.push(segment);
  }
  return out;
}

/** A property path's segments (`a.b[0]["odd key"]` → a, b, 0, odd key); lenient: whatever is not a bracket or dot. */
export function pathSegments(path: string): string[] {
  return parseSegments(path)?.map((s) => s.text) ?? path.split(/[.[\]]+/).filter((s) => s !== "");
}

function matchFrom(glob: readonly GlobSegment[], g: number, path: readonly string[], p: number): boolean {
  if (g === glob.length) return p === path.length;
  const segment = glob[g]!;
  if ("key" in segment) return p < path.length && path[p] === segment.key && matchFrom(glob, g + 1, path, p + 1);
  if (segment.any === "one") return p < path.length && matchFrom(glob, g + 1, path, p + 1);
  for (let skip = p; skip <= path.length; skip += 1) if (matchFrom(glob, g + 1, path, skip)) return true;
  return false;
}

/** Whether a property path matches one of the globs (a glob that is not well formed matches nothing). */
export function pathMatches(globs: readonly string[], path: string): boolean {
  const segments = pathSegments(path);
  return globs.some((glob) => {
    const parsed = parseGlob(glob);
    return parsed !== undefined && matchFrom(parsed, 0, segments, 0);
  });
}
