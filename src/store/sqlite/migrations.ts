// The schema of the run history database, as an ordered list of migrations. Append only: a released migration is
// never edited, a change is a new migration with the next version.

export interface Migration {
  /** 1, 2, 3, … in order, no gaps. */
  version: number;
  name: string;
  /** One or more statements, applied in one transaction together with the schema_migrations row. */
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "runs and resource changes",
    sql: `
      CREATE TABLE runs (
        run_id             TEXT PRIMARY KEY,
        stack              TEXT NOT NULL,
        engine             TEXT NOT NULL,
        verdict            TEXT NOT NULL,
        commit_sha         TEXT,
        stale_source_error TEXT,
        error_kind         TEXT,
        error_message      TEXT,
        drift_count        INTEGER NOT NULL,
        pending_count      INTEGER NOT NULL,
        started_at         TEXT NOT NULL,
        finished_at        TEXT NOT NULL,
        duration_ms        INTEGER NOT NULL
      );
      CREATE INDEX runs_stack_started_at ON runs (stack, started_at DESC);
      CREATE INDEX runs_started_at ON runs (started_at DESC);

      CREATE TABLE resource_changes (
        id              INTEGER PRIMARY KEY,
        run_id          TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        kind            TEXT NOT NULL,
        address         TEXT NOT NULL,
        type            TEXT NOT NULL,
        action          TEXT NOT NULL,
        properties_json TEXT NOT NULL
      );
      CREATE INDEX resource_changes_run_id ON resource_changes (run_id);
    `,
  },
];

/** The newest schema version this code knows. */
export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}
