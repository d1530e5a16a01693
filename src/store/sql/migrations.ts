// The schema of the run history database, as an ordered list of migrations: one history for SQLite and PostgreSQL.
// Append only: a released migration is never edited, a change is a new migration with the next version.
//
// The statements are written once, in the SQL both databases speak. PostgreSQL reads them through postgresDdl(): an
// INTEGER is a BIGINT (epoch milliseconds do not fit 32 bits), an INTEGER PRIMARY KEY an identity column, and TEXT
// compares byte by byte (COLLATE "C") as SQLite's does, so ISO timestamps and names sort the same on both. What the
// two cannot say alike (a trigger's body, SQLite's implicit rowid) is given per dialect beside the shared part.
import type { Dialect } from "./db.ts";

export interface Migration {
  /** 1, 2, 3, … in order, no gaps. */
  version: number;
  name: string;
  /** One or more statements, applied in one transaction together with the schema_migrations row. */
  sql: string;
  /** Statements only SQLite runs, after `sql`. */
  sqlite?: string;
  /** Statements only PostgreSQL runs, after `sql` (as written: not translated). */
  postgres?: string;
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
  {
    version: 2,
    name: "drift episodes, alert outbox, failure alert state",
    sql: `
      ALTER TABLE runs ADD COLUMN alert_error TEXT;

      CREATE TABLE episodes (
        id             INTEGER PRIMARY KEY,
        stack          TEXT NOT NULL,
        opened_at      TEXT NOT NULL,
        opened_run_id  TEXT NOT NULL,
        last_run_id    TEXT NOT NULL,
        last_seen_at   TEXT NOT NULL,
        seen_count     INTEGER NOT NULL,
        fingerprint    TEXT NOT NULL,
        changes_json   TEXT NOT NULL,
        closed_at      TEXT,
        slack_channel  TEXT,
        slack_ts       TEXT
      );
      -- At most one open episode per stack.
      CREATE UNIQUE INDEX episodes_open_stack ON episodes (stack) WHERE closed_at IS NULL;
      CREATE INDEX episodes_stack_opened_at ON episodes (stack, opened_at DESC);

      CREATE TABLE alert_outbox (
        id           INTEGER PRIMARY KEY,
        notifier     TEXT NOT NULL,
        stack        TEXT NOT NULL,
        episode_id   INTEGER REFERENCES episodes (id),
        event_type   TEXT NOT NULL,
        event_json   TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        -- pending | delivered | failed
        state        TEXT NOT NULL DEFAULT 'pending',
        finished_at  TEXT
      );
      CREATE INDEX alert_outbox_pending ON alert_outbox (notifier, id) WHERE state = 'pending';

      CREATE TABLE failure_alerts (
        stack          TEXT PRIMARY KEY,
        last_alert_at  TEXT NOT NULL,
        last_kind      TEXT NOT NULL,
        suppressed     INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: "run status: running, finished, interrupted",
    sql: `
      ALTER TABLE runs ADD COLUMN status TEXT NOT NULL DEFAULT 'finished';
      CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
    `,
  },
  {
    version: 4,
    name: "remediation: append-only audit log, leases",
    sql: `
      CREATE TABLE audit_log (
        id                INTEGER PRIMARY KEY,
        at                TEXT NOT NULL,
        stack             TEXT NOT NULL,
        run_id            TEXT NOT NULL,
        triggered_by      TEXT NOT NULL,
        actor             TEXT NOT NULL,
        commit_sha        TEXT,
        mode              TEXT NOT NULL,
        plan_fingerprint  TEXT,
        plan_changes      INTEGER,
        guards_json       TEXT NOT NULL,
        decision          TEXT NOT NULL,
        reason            TEXT,
        outcome           TEXT,
        duration_ms       INTEGER NOT NULL
      );
      CREATE INDEX audit_log_stack ON audit_log (stack, id DESC);

      -- One remediation per stack at a time, across every process sharing this database.
      CREATE TABLE leases (
        name        TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        expires_at  INTEGER NOT NULL
      );
    `,
    // Append-only: what was decided stays as it was written.
    sqlite: `
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `,
    postgres: `
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
      END
      $$;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
    `,
  },
  {
    version: 5,
    name: "remediation approvals",
    sql: `
      CREATE TABLE approvals (
        id                TEXT PRIMARY KEY,
        stack             TEXT NOT NULL,
        run_id            TEXT NOT NULL,
        commit_sha        TEXT NOT NULL,
        plan_fingerprint  TEXT NOT NULL,
        plan_json         TEXT NOT NULL,
        requested_at      TEXT NOT NULL,
        expires_at        TEXT NOT NULL,
        -- pending | applied | refused | failed | void | expired
        state             TEXT NOT NULL,
        decided_by        TEXT,
        decided_at        TEXT,
        reason            TEXT
      );
      -- At most one approval waits per stack.
      CREATE UNIQUE INDEX approvals_pending_stack ON approvals (stack) WHERE state = 'pending';
    `,
  },
  {
    version: 6,
    name: "remediation backoff",
    sql: `
      CREATE TABLE remediation_state (
        stack            TEXT PRIMARY KEY,
        failures         INTEGER NOT NULL,
        last_failure_at  TEXT NOT NULL,
        next_attempt_at  TEXT NOT NULL,
        needs_attention  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: "remediation applies in flight",
    sql: `
      -- A remediation between the start of its apply and its audit entry. A row whose holder is gone (its lease
      -- expired, or its process is dead) is an apply that was cut off: recorded as interrupted, never resumed.
      CREATE TABLE remediation_applies (
        stack        TEXT PRIMARY KEY,
        engine       TEXT NOT NULL,
        holder       TEXT NOT NULL,
        run_id       TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        approval_id  TEXT,
        entry_json   TEXT NOT NULL
      );
    `,
  },
  {
    version: 8,
    name: "flapping resources of an episode",
    sql: "ALTER TABLE episodes ADD COLUMN flapping_json TEXT;",
  },
  {
    version: 9,
    name: "the process running a run",
    // host:pid: at start, only runs whose process is gone are marked interrupted (not a concurrent check's).
    sql: "ALTER TABLE runs ADD COLUMN process TEXT;",
  },
  {
    version: 10,
    name: "what an engine applied last (the Kubernetes baseline)",
    // One row per stack and engine, replaced after each successful apply. Secret values are never in it: the
    // Kubernetes engine stores keyed digests of them.
    sql: `
      CREATE TABLE engine_state (
        stack       TEXT NOT NULL,
        engine      TEXT NOT NULL,
        commit_sha  TEXT,
        state_json  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (stack, engine)
      );
    `,
  },
  {
    version: 11,
    name: "what started a run",
    sql: "ALTER TABLE runs ADD COLUMN trigger TEXT;",
  },
  {
    version: 12,
    name: "a resource's address before a move",
    sql: "ALTER TABLE resource_changes ADD COLUMN previous_address TEXT;",
  },
  {
    version: 13,
    name: "scheduled reports; the indexes reports read by",
    sql: `
      -- One row per report produced; its HTML is <dataDir>/reports/<id>.html. One per name and tick, so a tick is
      -- never produced twice (a restart, a missed tick made up at start).
      CREATE TABLE reports (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        tick_at      TEXT NOT NULL,
        period_from  TEXT NOT NULL,
        period_to    TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        digest_json  TEXT NOT NULL,
        UNIQUE (name, tick_at)
      );
      -- When the service first ran with a report scheduled: ticks before it were never due.
      CREATE TABLE report_schedules (
        name      TEXT PRIMARY KEY,
        armed_at  TEXT NOT NULL
      );
      CREATE INDEX audit_log_at ON audit_log (at);
      CREATE INDEX approvals_requested_at ON approvals (requested_at);
      CREATE INDEX episodes_closed_at ON episodes (closed_at);
    `,
  },
  {
    version: 14,
    name: "the order runs and approvals were recorded in",
    // Ties between rows with the same timestamp go to the one recorded later. SQLite has that order already (the
    // rowid); PostgreSQL keeps it in a sequence. Dialect.recordOrder names the column.
    sql: "",
    postgres: `
      ALTER TABLE runs ADD COLUMN seq BIGSERIAL;
      ALTER TABLE approvals ADD COLUMN seq BIGSERIAL;
    `,
  },
  {
    version: 15,
    name: "what an alert's delivery posted, before it is marked delivered",
    // A process that dies between a post and marking its entry delivered must not make the next one post again:
    // post_started_at says a post may have landed (the next attempt looks for it first), posted_* what landed.
    sql: `
      ALTER TABLE alert_outbox ADD COLUMN post_started_at TEXT;
      ALTER TABLE alert_outbox ADD COLUMN posted_channel TEXT;
      ALTER TABLE alert_outbox ADD COLUMN posted_ts TEXT;
    `,
  },
  {
    version: 16,
    name: "acting from Slack: acknowledged and snoozed episodes, signed requests already taken",
    sql: `
      ALTER TABLE episodes ADD COLUMN acknowledged_json TEXT;
      ALTER TABLE episodes ADD COLUMN snooze_json TEXT;

      -- A signed Slack request is taken once: the same bytes sent again within the signature's lifetime are a replay.
      CREATE TABLE seen_requests (
        request_key  TEXT PRIMARY KEY,
        expires_at   INTEGER NOT NULL
      );
      CREATE INDEX seen_requests_expires_at ON seen_requests (expires_at);
    `,
  },
  {
    version: 17,
    name: "push webhook deliveries already accepted",
    sql: `
      -- A push webhook's delivery is taken once, by whichever replica gets it first, across restarts: each key it is
      -- known by (a sender's delivery id, the signed body's digest) is kept until expires_at (epoch ms, by the
      -- database's clock).
      CREATE TABLE webhook_deliveries (
        delivery_key  TEXT PRIMARY KEY,
        expires_at    INTEGER NOT NULL
      );
      CREATE INDEX webhook_deliveries_expires_at ON webhook_deliveries (expires_at);
    `,
  },
  {
    version: 18,
    name: "the sandbox level each run's engine ran at",
    sql: `
      -- strict, files or off (unconfined); NULL for runs recorded before the sandbox existed.
      ALTER TABLE runs ADD COLUMN sandbox TEXT;
    `,
  },
];

/** The newest schema version this code knows. */
export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/** A migration's statements as PostgreSQL reads the shared SQL (see the top of this file). */
export function postgresDdl(sql: string): string {
  return sql
    .replace(/\bINTEGER PRIMARY KEY\b/g, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    .replace(/\bINTEGER\b/g, "BIGINT")
    .replace(/\bTEXT\b/g, 'TEXT COLLATE "C"');
}

/** What `dialect` runs for the migration. */
export function migrationSql(migration: Pick<Migration, "sql" | "sqlite" | "postgres">, dialect: Dialect): string {
  if (dialect.name === "sqlite") return [migration.sql, migration.sqlite ?? ""].join("\n");
  return [postgresDdl(migration.sql), migration.postgres ?? ""].join("\n");
}
