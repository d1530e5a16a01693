// A connection's search_path travels in its startup options: pg_catalog first, then the schemas given, quoted; the
// URL's own options move out of the URL (pg would prefer them) and stay, before ours. (On a real server:
// test/postgres-search-path.test.ts.)
import { afterEach, describe, expect, it, vi } from "vitest";
import { pinSearchPath, searchPath } from "./search-path.ts";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("pinSearchPath", () => {
  it("puts pg_catalog first and quotes every schema, escaping what libpq's options would split on", () => {
    expect(searchPath([])).toBe("pg_catalog");
    expect(searchPath(["public", 'odd "one"'])).toBe('pg_catalog,"public","odd ""one"""');
    vi.stubEnv("PGOPTIONS", "");
    expect(pinSearchPath("postgres://u:p@db:5432/app?sslmode=require", ["my schema"])).toEqual({
      connectionString: "postgres://u:p@db:5432/app?sslmode=require",
      options: '-c search_path=pg_catalog,"my\\ schema"',
    });
  });

  it("moves the URL's options (the last one, as pg reads them) into the options, before search_path", () => {
    vi.stubEnv("PGOPTIONS", "-c work_mem=1MB");
    const url = `postgres://u:p@db/app?sslmode=require&options=${encodeURIComponent("-c x=1")}&options=${encodeURIComponent("-c statement_timeout=5s")}&application_name=a#f`;
    expect(pinSearchPath(url, ["public"])).toEqual({
      connectionString: "postgres://u:p@db/app?sslmode=require&application_name=a#f",
      options: '-c statement_timeout=5s -c search_path=pg_catalog,"public"',
    });
    // Without options in the URL, PGOPTIONS is what pg would have sent: kept too.
    expect(pinSearchPath("postgres://u:p@db/app", []).options).toBe("-c work_mem=1MB -c search_path=pg_catalog");
  });
});
