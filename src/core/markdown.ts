// Markdown that cannot be broken out of, for every Markdown Driftwatch writes (check summaries, reports).

/** A fenced code block whose fence is longer than any run of backticks in `text`: nothing in it can close it. */
export function fencedBlock(text: string, info = "text"): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text.replace(/\r\n?/g, "\n")}\n${fence}`;
}
