// Which schemas a connection Driftwatch opens to PostgreSQL looks names up in. Left to the server, that is
// `"$user", public`: on PostgreSQL <= 14 (and in any database where other roles may create objects in public) another
// role can put a function or an operator there that matches an unqualified call better than the built-in one does,
// and it then runs with Driftwatch's privileges. So every connection searches pg_catalog first, explicitly, then the
// one schema it works in, and nothing else, from the first statement on: the setting travels in the connection's
// startup packet (libpq's `options`, `-c search_path=…`), not in a SET that could come too late.
//
// The SQL Driftwatch writes qualifies and types its calls of built-in functions besides (see driver.ts); this is the
// second line, for what may be added later unqualified.

/** `name` as an SQL identifier, always double-quoted. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The value of search_path: pg_catalog, then `schemas` in order. */
export function searchPath(schemas: readonly string[]): string {
  return ["pg_catalog", ...schemas.map(quoteIdentifier)].join(",");
}

/** A libpq `options` argument: spaces separate arguments unless escaped with a backslash. */
function optionArgument(value: string): string {
  return value.replace(/[\\ ]/g, (c) => `\\${c}`);
}

/** What pg.Client and pg.Pool (and pg-boss, which passes its config on to them) connect with. */
export interface PinnedConnection {
  connectionString: string;
  /** The server settings of the startup packet: the URL's own (or PGOPTIONS), then search_path. */
  options: string;
}

/** The URL's query (between the first `?` and a `#`), as pg reads it: its parameters, and the URL without them. */
function splitQuery(url: string): { base: string; query: URLSearchParams; fragment: string } {
  const start = url.indexOf("?");
  if (start === -1) return { base: url, query: new URLSearchParams(), fragment: "" };
  const hash = url.indexOf("#", start);
  const end = hash === -1 ? url.length : hash;
  return { base: url.slice(0, start), query: new URLSearchParams(url.slice(start + 1, end)), fragment: url.slice(end) };
}

/**
 * The connection to `url` with search_path pinned to pg_catalog and `schemas`. Options the URL carries
 * (`?options=-c%20statement_timeout%3D5s`, or PGOPTIONS when it carries none) are kept, and search_path comes after
 * them, so it is the one that holds. pg prefers options read from the URL to the ones it is given, so they are moved
 * out of the URL into `options`.
 */
export function pinSearchPath(url: string, schemas: readonly string[]): PinnedConnection {
  const pinned = `-c ${optionArgument(`search_path=${searchPath(schemas)}`)}`;
  const { base, query, fragment } = splitQuery(url);
  let own = process.env.PGOPTIONS;
  let connectionString = url;
  if (query.has("options")) {
    own = query.getAll("options").at(-1); // pg takes the last one given
    query.delete("options");
    const rest = query.toString();
    connectionString = `${base}${rest ? `?${rest}` : ""}${fragment}`;
  }
  return { connectionString, options: own?.trim() ? `${own.trim()} ${pinned}` : pinned };
}
