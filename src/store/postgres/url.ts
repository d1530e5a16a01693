// A PostgreSQL connection URL as it may be shown: in logs, errors and the dashboard, never with its password.

/** The URL without its password (`***` in its place); something that is not a URL is not shown at all. */
export function redactDatabaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "(a PostgreSQL connection string that is not a URL)";
  }
  if (parsed.password !== "") parsed.password = "***";
  for (const key of [...parsed.searchParams.keys()]) {
    if (/pass|secret|key|token/i.test(key)) parsed.searchParams.set(key, "***");
  }
  return parsed.toString();
}

/** Whether `url` names a PostgreSQL database (postgres:// or postgresql://). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}
