// Driftwatch on a database where another role may create objects in the schema Driftwatch's tables are in: public on
// PostgreSQL <= 14 (everyone's by default; 15 and later revoke CREATE from PUBLIC, so the tests grant it back), or a
// database shared with other applications. That role puts functions and operators there that match Driftwatch's
// calls better than the built-in ones do (PostgreSQL prefers an exact match of argument types to a built-in that
// needs a cast, whichever schema comes first): `hashtextextended(text, integer)` for an untyped $1 and the literal 0,
// `pg_try_advisory_lock(text)` for an untyped $1, `unnest(text[])`, `setval(text, bigint, boolean)`, and operators
// `numeric * integer` and `sql_identifier = name`. Each, once called, would run as Driftwatch's role and grant its
// author every table of Driftwatch's. Run as Driftwatch's role, none of them ever runs: migrations, a transaction
// that locks, work one process does for all, the leader, the queue, `db copy`. That the trap is armed is shown at
// the end of each test: Driftwatch's role calling the built-ins unqualified, as it used to, springs it.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { FleetScheduler } from "../src/scheduler/fleet.ts";
import { Leadership } from "../src/scheduler/leader.ts";
import { copySqliteToPostgres } from "../src/store/copy.ts";
import { openPostgresStore } from "../src/store/postgres/index.ts";
import { pinSearchPath } from "../src/store/postgres/search-path.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { nowhereConfig } from "./support/nowhere-stacks.ts";
import { type LocalPostgres, queryDatabase, startPostgres } from "./support/postgres.ts";
import { until } from "./support/processes.ts";
import { tempDir } from "./support/tempdir.ts";

const silent = pino({ level: "silent" });

/** What the other role puts in public: each function notes that it ran (and as whom), takes the caller's tables, and
 * then does what the built-in would, so nothing looks amiss. SECURITY INVOKER: they run as whoever calls them. */
function trap(attacker: string): string {
  const fn = (signature: string, returns: string, what: string, body: string) => `
    CREATE FUNCTION public.${signature} RETURNS ${returns} LANGUAGE plpgsql SECURITY INVOKER AS $$
    BEGIN
      PERFORM public.take_over('${what}');
      ${body}
    END $$;`;
  return `
    CREATE TABLE public.ran (what text NOT NULL, by_role text NOT NULL DEFAULT current_user);
    GRANT INSERT ON public.ran TO PUBLIC;
    CREATE FUNCTION public.take_over(what text) RETURNS void LANGUAGE plpgsql SECURITY INVOKER AS $$
    BEGIN
      INSERT INTO public.ran (what) VALUES (what);
      EXECUTE pg_catalog.format('GRANT ALL ON ALL TABLES IN SCHEMA public TO %I', '${attacker}');
    END $$;
    ${fn("hashtextextended(key text, seed integer)", "bigint", "hashtextextended(text, integer)", "RETURN pg_catalog.hashtextextended(key, seed);")}
    ${fn("pg_try_advisory_lock(key text)", "boolean", "pg_try_advisory_lock(text)", "RETURN pg_catalog.pg_try_advisory_lock(key::bigint);")}
    ${fn("unnest(list text[])", "SETOF text", "unnest(text[])", "RETURN QUERY SELECT pg_catalog.unnest(list);")}
    ${fn("setval(sequence text, value bigint, called boolean)", "bigint", "setval(text, bigint, boolean)", "RETURN pg_catalog.setval(sequence::regclass, value, called);")}
    ${fn("times(a numeric, b integer)", "numeric", "numeric * integer", "RETURN a OPERATOR(pg_catalog.*) b;")}
    CREATE OPERATOR public.* (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = public.times);
    ${fn("identifier_is(a information_schema.sql_identifier, b name)", "boolean", "sql_identifier = name", "RETURN a::name OPERATOR(pg_catalog.=) b;")}
    CREATE OPERATOR public.= (LEFTARG = information_schema.sql_identifier, RIGHTARG = name, FUNCTION = public.identifier_is);
  `;
}

interface TrappedDatabase {
  /** Driftwatch's role: owns the database, not a superuser. */
  appUrl: string;
  /** The other role's functions that ran, and as whom. */
  ran(): Promise<{ what: string; by_role: string }[]>;
  /** Whether the other role may read Driftwatch's runs. */
  attackerReadsRuns(): Promise<boolean>;
  /** Driftwatch's role calls the built-ins unqualified on a connection with the server's search_path, as it used to. */
  callUnqualified(): Promise<void>;
}

let server: LocalPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

async function trappedDatabase(label: string): Promise<TrappedDatabase> {
  const suffix = randomBytes(4).toString("hex");
  const name = `${label}_${suffix}`;
  const adminUrl = await server.createDatabase(name);
  const app = { user: `dw_app_${suffix}`, password: randomBytes(12).toString("hex") };
  const attacker = { user: `dw_other_${suffix}`, password: randomBytes(12).toString("hex") };
  const urlOf = (role: { user: string; password: string }) => `postgres://${role.user}:${role.password}@${server.host}:${server.port}/${name}`;
  for (const role of [app, attacker]) await queryDatabase(adminUrl, `CREATE ROLE ${role.user} LOGIN PASSWORD '${role.password}'`);
  // Driftwatch's role owns its database (the queue makes a schema of its own); every role may create in public.
  await queryDatabase(adminUrl, `ALTER DATABASE ${name} OWNER TO ${app.user}; GRANT CREATE ON SCHEMA public TO PUBLIC`);
  await queryDatabase(urlOf(attacker), trap(attacker.user));
  return {
    appUrl: urlOf(app),
    ran: async () => (await queryDatabase(adminUrl, "SELECT what, by_role FROM public.ran")) as { what: string; by_role: string }[],
    attackerReadsRuns: async () => (await queryDatabase(adminUrl, `SELECT has_table_privilege('${attacker.user}', 'public.runs', 'SELECT') AS may`))[0]!.may === true,
    callUnqualified: async () => {
      await queryDatabase(urlOf(app), "SELECT pg_advisory_unlock(hashtextextended('driftwatch:migrate', 0))");
    },
  };
}

function run(runId: string, stack: string): StackResult {
  return {
    runId,
    stack,
    engine: "terraform",
    verdict: "drifted",
    commit: "0123456789abcdef0123456789abcdef01234567",
    changes: [{ kind: "drift", address: "local_file.a", type: "local_file", action: "update", properties: [{ path: "content", desired: "a", actual: "b" }] }],
    startedAt: "2026-05-01T10:00:00.000Z",
    finishedAt: "2026-05-01T10:00:05.000Z",
    durationMs: 5000,
  };
}

describe("Driftwatch on a database where another role may create objects in its schema", () => {
  it("never runs the other role's functions or operators: migrations, locks, the clock, the leader, the queue", async () => {
    const db = await trappedDatabase("search_path");
    const store = await openPostgresStore(db.appUrl, { poolSize: 3 });
    onTestFinished(() => store.close());
    await store.recordRun(run("r1", "app"));
    // A transaction that locks (one approval per stack), work one process does for all (an outbox's delivery).
    await store.requestApproval({ id: "a1", stack: "app", runId: "r1", commit: "c0ffee", planFingerprint: "fp", plan: [], requestedAt: "2026-05-01T10:00:06.000Z", expiresAt: "2099-01-01T00:00:00.000Z" });
    expect(await store.deliveringAlone("slack", async () => "delivered")).toBe("delivered");
    // The database's clock (leases, signed requests, webhook deliveries), and a list bound as one parameter.
    expect(await store.acquireLease("remediation:app", "host:1", 60_000)).toBe(true);
    expect(await store.claimRequest("slack:v0=abc", 60_000)).toBe(true);
    expect(await store.claimDelivery(["x-github-delivery:1", "body:1"], { ttlMs: 60_000, max: 100 })).toBe(true);
    expect((await store.latestRuns(["app", "web"])).map((r) => r.runId)).toEqual(["r1"]);
    await store.close();
    // Opened again: the schema is found current (nothing applied twice).
    await (await openPostgresStore(db.appUrl, { poolSize: 2 })).close();

    const leadership = new Leadership({ databaseUrl: db.appUrl, intervalMs: 60_000, logger: silent });
    onTestFinished(() => leadership.stop());
    await leadership.start();
    expect(leadership.leading).toBe(true);
    await leadership.stop();

    const ran: string[] = [];
    const fleet = new FleetScheduler({
      stacks: nowhereConfig(tempDir(), ["{ name: app, engine: terraform, source: { repo: /nowhere, path: app } }"]).stacks,
      concurrency: 1,
      jitterMs: 0,
      databaseUrl: db.appUrl,
      poolSize: 2,
      heartbeatSeconds: 10,
      run: async (stack) => void ran.push(stack.name),
      onRetry: async () => undefined,
      logger: silent,
    });
    let fleetStopped = false;
    onTestFinished(async () => {
      if (!fleetStopped) await fleet.stop(0);
    });
    await fleet.start(false);
    expect(await fleet.trigger("app", "api")).toBe("queued");
    await until(() => ran.length === 1, 60_000, "the queued check run");
    await fleet.stop(1_000);
    fleetStopped = true;

    expect(await db.ran()).toEqual([]);
    expect(await db.attackerReadsRuns()).toBe(false);

    // The trap is armed: the same calls, unqualified on the server's search_path, run the other role's function.
    await db.callUnqualified();
    expect(await db.ran()).toContainEqual({ what: "hashtextextended(text, integer)", by_role: expect.stringMatching(/^dw_app_/) });
    expect(await db.attackerReadsRuns()).toBe(true);
  }, 180_000);

  it("never runs them when `db copy` fills the database", async () => {
    const db = await trappedDatabase("search_path_copy");
    const file = join(tempDir(), "history.db");
    const sqlite = await openSqliteStore(file);
    await sqlite.recordRun(run("r1", "app"));
    await sqlite.recordRun(run("r2", "web"));
    await sqlite.close();

    const copied = await copySqliteToPostgres(file, db.appUrl);
    expect(copied.find((t) => t.table === "resource_changes")?.rows).toBe(2);
    // The identity continues after the copied ids (setval did its work).
    const store = await openPostgresStore(db.appUrl, { poolSize: 2 });
    onTestFinished(() => store.close());
    await store.recordRun(run("r3", "app"));
    expect((await store.getRun("r3"))?.changes).toHaveLength(1);
    await store.close();

    expect(await db.ran()).toEqual([]);
    expect(await db.attackerReadsRuns()).toBe(false);
    await db.callUnqualified();
    expect(await db.attackerReadsRuns()).toBe(true);
  }, 120_000);

  it("keeps the tables in the schema the role's own settings name", async () => {
    const suffix = randomBytes(4).toString("hex");
    const name = `search_path_own_${suffix}`;
    const adminUrl = await server.createDatabase(name);
    const role = { user: `dw_own_${suffix}`, password: randomBytes(12).toString("hex") };
    // A schema named after the role ("$user", first on the server's search_path), as PostgreSQL 15's docs suggest.
    await queryDatabase(adminUrl, `CREATE ROLE ${role.user} LOGIN PASSWORD '${role.password}'; CREATE SCHEMA ${role.user} AUTHORIZATION ${role.user}`);
    const url = `postgres://${role.user}:${role.password}@${server.host}:${server.port}/${name}`;
    const store = await openPostgresStore(url, { poolSize: 2 });
    onTestFinished(() => store.close());
    await store.recordRun(run("r1", "app"));
    await store.close();
    const tables = await queryDatabase(adminUrl, "SELECT DISTINCT schemaname FROM pg_tables WHERE tablename IN ('runs', 'schema_migrations', 'webhook_deliveries')");
    expect(tables).toEqual([{ schemaname: role.user }]);
    const reopened = await openPostgresStore(url, { poolSize: 2 });
    expect(await reopened.getRun("r1")).toMatchObject({ runId: "r1" });
    await reopened.close();
  });

  it("connects searching pg_catalog and the given schemas only, from the first statement, keeping the URL's own options", async () => {
    const url = await server.createDatabase(`search_path_pin_${randomBytes(4).toString("hex")}`);
    const odd = 'odd "schema" name';
    await queryDatabase(url, `CREATE SCHEMA "${odd.replaceAll('"', '""')}"`);
    const settings = async (connection: { connectionString: string; options: string }) => {
      const client = new pg.Client(connection);
      await client.connect();
      try {
        // The first statement on the connection already sees it.
        const { rows } = await client.query<{ path: string; schemas: string[]; timeout: string }>(
          "SELECT pg_catalog.current_setting('search_path') AS path, CAST(pg_catalog.current_schemas(false) AS pg_catalog.text[]) AS schemas, pg_catalog.current_setting('statement_timeout') AS timeout",
        );
        return rows[0]!;
      } finally {
        await client.end();
      }
    };
    expect(await settings(pinSearchPath(url, ["public"]))).toMatchObject({ path: 'pg_catalog,"public"', schemas: ["pg_catalog", "public"] });
    expect(await settings(pinSearchPath(url, []))).toMatchObject({ path: "pg_catalog", schemas: ["pg_catalog"] });
    expect((await settings(pinSearchPath(url, [odd]))).schemas).toEqual(["pg_catalog", odd]);
    // The URL's options (pg would prefer them to the ones it is given): kept, but search_path is ours.
    const withOptions = `${url}?options=${encodeURIComponent("-c statement_timeout=4321 -c search_path=public,elsewhere")}&application_name=x`;
    expect(await settings(pinSearchPath(withOptions, ["public"]))).toEqual({ path: 'pg_catalog,"public"', schemas: ["pg_catalog", "public"], timeout: "4321ms" });
  });
});
