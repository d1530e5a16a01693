// The stack table's filters and order, from the query string, so they work without script and survive a reload
// (and the page's own refresh, which fetches location.href): /?verdict=drifted&engine=pulumi&q=web&sort=age&order=desc.
//
// An empty value is no filter (what the form's "any" sends); any other value the table does not know is refused
// (`parseStackQuery` says which and why; the route answers 400), so a mistyped link never silently shows
// everything.
import type { EngineId } from "../config/types.ts";
import { POSTURE_VERDICTS } from "../reports/model.ts";
import type { PostureVerdict } from "../core/report-digest.ts";
import type { StackRow } from "./dashboard.ts";

export const ENGINES: readonly EngineId[] = ["pulumi", "terraform", "cloudformation", "kubernetes"];

/** A verdict, or `stale`: not checked within twice the schedule (whatever the last verdict). */
export type StatusFilter = PostureVerdict | "stale";
export const STATUS_FILTERS: readonly StatusFilter[] = [...POSTURE_VERDICTS, "stale"];

export type SortKey = "name" | "verdict" | "engine" | "checked" | "age";
export type SortOrder = "asc" | "desc";

/** Each column's label and the order a first click on its header asks for. */
export const SORT_KEYS: Readonly<Record<SortKey, { label: string; defaultOrder: SortOrder }>> = {
  name: { label: "name", defaultOrder: "asc" },
  verdict: { label: "verdict", defaultOrder: "asc" },
  engine: { label: "engine", defaultOrder: "asc" },
  // Most recently checked first.
  checked: { label: "last check", defaultOrder: "desc" },
  // Oldest open episode first.
  age: { label: "episode age", defaultOrder: "desc" },
};

/** The longest name filter taken: stack names are short, a longer one is not a filter someone typed. */
export const MAX_NAME_FILTER = 200;

export interface StackQuery {
  verdict?: StatusFilter;
  engine?: EngineId;
  /** Part of the stack's name, any case. */
  q?: string;
  sort: SortKey;
  /** As asked; absent: the sort key's default order. */
  order?: SortOrder;
}

export const DEFAULT_QUERY: StackQuery = { sort: "name" };

export type ParsedQuery<T> = { ok: true; query: T } | { ok: false; error: string };

/** One query parameter as a string: absent or empty is undefined; given twice is a mistake. */
export function single(query: Record<string, unknown>, name: string): { ok: true; value?: string } | { ok: false; error: string } {
  const value = query[name];
  if (value === undefined) return { ok: true };
  if (typeof value !== "string") return { ok: false, error: `${name} may be given once` };
  return value === "" ? { ok: true } : { ok: true, value };
}

function oneOf<T extends string>(query: Record<string, unknown>, name: string, allowed: readonly T[]): { ok: true; value?: T } | { ok: false; error: string } {
  const got = single(query, name);
  if (!got.ok) return got;
  if (got.value === undefined) return { ok: true };
  if (!(allowed as readonly string[]).includes(got.value)) return { ok: false, error: `${name} must be one of ${allowed.join(", ")} (got ${JSON.stringify(got.value.slice(0, 100))})` };
  return { ok: true, value: got.value as T };
}

export function parseStackQuery(query: Record<string, unknown>): ParsedQuery<StackQuery> {
  const verdict = oneOf(query, "verdict", STATUS_FILTERS);
  if (!verdict.ok) return verdict;
  const engine = oneOf(query, "engine", ENGINES);
  if (!engine.ok) return engine;
  const sort = oneOf(query, "sort", Object.keys(SORT_KEYS) as SortKey[]);
  if (!sort.ok) return sort;
  const order = oneOf(query, "order", ["asc", "desc"] as const);
  if (!order.ok) return order;
  const q = single(query, "q");
  if (!q.ok) return q;
  const name = q.value?.trim();
  if (name !== undefined && name.length > MAX_NAME_FILTER) return { ok: false, error: `q (part of a stack name) must be at most ${MAX_NAME_FILTER} characters` };
  return {
    ok: true,
    query: {
      ...(verdict.value ? { verdict: verdict.value } : {}),
      ...(engine.value ? { engine: engine.value } : {}),
      ...(name ? { q: name } : {}),
      sort: sort.value ?? "name",
      ...(order.value ? { order: order.value } : {}),
    },
  };
}

export function effectiveOrder(query: StackQuery): SortOrder {
  return query.order ?? SORT_KEYS[query.sort].defaultOrder;
}

/** The row's verdict as the summary counts it: its last finished run's, or never checked. */
export function rowVerdict(row: StackRow): PostureVerdict {
  return row.lastRun?.verdict ?? "never-checked";
}

export function matches(row: StackRow, query: StackQuery): boolean {
  if (query.verdict === "stale" ? !row.stale : query.verdict !== undefined && rowVerdict(row) !== query.verdict) return false;
  if (query.engine !== undefined && row.engine !== query.engine) return false;
  if (query.q !== undefined && !row.name.toLowerCase().includes(query.q.toLowerCase())) return false;
  return true;
}

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
const byName = (a: StackRow, b: StackRow) => collator.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The value a row is sorted by; undefined (never checked, no open episode) goes last in either order. */
function sortValue(row: StackRow, key: SortKey): string | number | undefined {
  switch (key) {
    case "name":
      return undefined;
    case "verdict":
      return POSTURE_VERDICTS.indexOf(rowVerdict(row));
    case "engine":
      return row.engine;
    case "checked":
      return row.lastRun ? Date.parse(row.lastRun.finishedAt) : undefined;
    case "age":
      // Older episode, greater age.
      return row.openEpisode ? -Date.parse(row.openEpisode.openedAt) : undefined;
  }
}

/** The rows the query asks for, in its order; ties (and the name sort) by name, numbers in names as numbers. */
export function selectRows(rows: readonly StackRow[], query: StackQuery): StackRow[] {
  const sign = effectiveOrder(query) === "asc" ? 1 : -1;
  const keyed = rows.filter((r) => matches(r, query)).map((row) => ({ row, value: sortValue(row, query.sort) }));
  keyed.sort((a, b) => {
    if (query.sort === "name") return sign * byName(a.row, b.row);
    if (a.value === undefined || b.value === undefined) {
      if (a.value !== b.value) return a.value === undefined ? 1 : -1;
      return byName(a.row, b.row);
    }
    const cmp = typeof a.value === "number" && typeof b.value === "number" ? a.value - b.value : collator.compare(String(a.value), String(b.value));
    return sign * Math.sign(cmp) || byName(a.row, b.row);
  });
  return keyed.map((k) => k.row);
}

/** The home page's URL for a query (only what differs from the defaults), e.g. `/?verdict=drifted&sort=age`. */
export function stacksHref(query: StackQuery): string {
  const params = new URLSearchParams();
  if (query.verdict) params.set("verdict", query.verdict);
  if (query.engine) params.set("engine", query.engine);
  if (query.q) params.set("q", query.q);
  if (query.sort !== "name") params.set("sort", query.sort);
  if (query.order && query.order !== SORT_KEYS[query.sort].defaultOrder) params.set("order", query.order);
  const text = params.toString();
  return text ? `/?${text}` : "/";
}

/** Where a click on a column's header leads: sorted by it (the other order when it is sorted by it already). */
export function sortHref(query: StackQuery, key: SortKey): string {
  const order = query.sort === key ? (effectiveOrder(query) === "asc" ? "desc" : "asc") : SORT_KEYS[key].defaultOrder;
  return stacksHref({ ...query, sort: key, order });
}
