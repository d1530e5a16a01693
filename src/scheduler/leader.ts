// One replica of a fleet at a time does what must not be done N times (polling Git, exporting the fleet gauges of
// /metrics): whoever holds a PostgreSQL session advisory lock. The lock lives as long as the holder's connection, so
// a replica that dies (or loses the database) lets it go at once, and another replica takes it at its next try.
import pg from "pg";
import type { Logger } from "pino";
import { errorMessage } from "../core/errors.ts";
import { pinSearchPath } from "../store/postgres/search-path.ts";

/** The advisory lock key of the Git poll ("dw" + 1). */
const GIT_POLL_LOCK = 0x647701;

export interface LeaderOptions {
  databaseUrl: string;
  /** How often a follower tries to take the lead (and the leader checks its connection). */
  intervalMs: number;
  logger: Logger;
  onChange?(leading: boolean): void;
}

export class Leadership {
  readonly #options: LeaderOptions;
  #client: pg.Client | undefined;
  #leading = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #trying: Promise<void> | undefined;

  constructor(options: LeaderOptions) {
    this.#options = options;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Tries at once, then every interval. */
  async start(): Promise<void> {
    await this.#try();
    this.#timer = setInterval(() => void this.#try(), this.#options.intervalMs);
  }

  #set(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#options.logger.info({ leading }, leading ? "this replica leads the fleet: it polls Git and exports the fleet gauges" : "this replica no longer leads the fleet");
    this.#options.onChange?.(leading);
  }

  #try(): Promise<void> {
    this.#trying ??= this.#tryOnce().finally(() => {
      this.#trying = undefined;
    });
    return this.#trying;
  }

  async #tryOnce(): Promise<void> {
    if (this.#stopped) return;
    try {
      if (!this.#client) {
        // This connection reads no table: it looks names up in pg_catalog only.
        const client = new pg.Client({ ...pinSearchPath(this.#options.databaseUrl, []), application_name: "driftwatch-leader", connectionTimeoutMillis: 10_000 });
        client.on("error", (error) => {
          this.#options.logger.warn({ err: error.message }, "the leader connection failed");
          this.#drop(client);
        });
        await client.connect();
        this.#client = client;
      }
      if (this.#leading) {
        await this.#client.query("SELECT 1");
        return;
      }
      const { rows } = await this.#client.query<{ taken: boolean }>("SELECT pg_catalog.pg_try_advisory_lock($1::bigint) AS taken", [GIT_POLL_LOCK]);
      this.#set(rows[0]?.taken === true);
    } catch (error) {
      this.#options.logger.warn({ err: errorMessage(error) }, "cannot reach the database to take or keep the lead");
      if (this.#client) this.#drop(this.#client);
    }
  }

  #drop(client: pg.Client): void {
    if (this.#client === client) this.#client = undefined;
    this.#set(false);
    void client.end().catch(() => undefined);
  }

  /** Lets the lead go (the connection ends, and the lock with it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#trying;
    const client = this.#client;
    this.#client = undefined;
    this.#set(false);
    await client?.end().catch(() => undefined);
  }
}
