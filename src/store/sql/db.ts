// The seam between the store and its database: a few async calls that SQLite (node:sqlite) and PostgreSQL (pg)
// both serve. The store's SQL is written once against it, with `?` placeholders; where the two dialects differ
// (an identity column, a list parameter, the order rows were recorded in), the Dialect says how.

/** A row as read: column name to value (text, number or null). */
export type Row = Record<string, unknown>;

/** A bound parameter: text, number, null, or a list of text (only through Dialect.inList). */
export type Param = string | number | null | readonly string[];

/** Statements outside or inside a transaction. */
export interface SqlExecutor {
  all(sql: string, params?: readonly Param[]): Promise<Row[]>;
  get(sql: string, params?: readonly Param[]): Promise<Row | undefined>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly Param[]): Promise<number>;
  /** Runs one or more statements without parameters (a migration). */
  exec(sql: string): Promise<void>;
  /**
   * Serialises this transaction with every other one that locks the same key until it ends (a no-op where the
   * database already runs one writer at a time). Only inside a transaction.
   */
  lock(key: string): Promise<void>;
}

export interface SqlDb extends SqlExecutor {
  readonly dialect: Dialect;
  /** Where the database is, fit to show: a file, or a URL without its password. */
  readonly location: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs `fn` while no other process migrates the same database. */
  exclusively<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs `fn` unless another process holds `key` (then resolves to undefined at once): for work one process at a
   * time does for all of them. Where one process is all there is (SQLite), `fn` always runs.
   */
  ifNobodyElse<T>(key: string, fn: () => Promise<T>): Promise<T | undefined>;
  /** Whether the table exists (read without writing anything). */
  tableExists(name: string): Promise<boolean>;
  /** Ends the connection(s). */
  close(): Promise<void>;
}

export interface Dialect {
  readonly name: "sqlite" | "postgres";
  /** The column that orders rows of `runs` and `approvals` as they were recorded (ties of equal timestamps). */
  readonly recordOrder: string;
  /** The database's clock, in epoch milliseconds (an integer expression): one clock for every host. */
  readonly nowMs: string;
  /** `column` is one of `values`: the condition and its one parameter. */
  inList(column: string, values: readonly string[]): { sql: string; param: Param };
  /** A FROM item named `alias` with one row per value, in its column `value`: the item and its one parameter. */
  listTable(alias: string, values: readonly string[]): { sql: string; param: Param };
}
