// Lease holders: a process of this host that is gone is recognised as gone; a live one, or one of another host
// (whose processes cannot be seen from here), never is.
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exitedPid } from "../../test/support/processes.ts";
import { tempDir } from "../../test/support/tempdir.ts";
import { openSqliteStore } from "../store/sqlite/index.ts";
import { holderIsGone, newLeaseHolder, takeLease } from "./lease.ts";

describe("remediation leases", () => {
  it("knows a holder of this host whose process is gone", () => {
    expect(holderIsGone(newLeaseHolder())).toBe(false);
    expect(holderIsGone(`${hostname()}:${exitedPid()}:nonce`)).toBe(true);
    expect(holderIsGone(`another-host.example:${exitedPid()}:nonce`)).toBe(false);
    expect(holderIsGone("not a holder")).toBe(false);
  });

  it("takes a lease over from a dead holder at once, and waits for a live one", async () => {
    const store = await openSqliteStore(join(tempDir(), "db.sqlite"));
    expect(await store.acquireLease("remediate:net", `${hostname()}:${exitedPid()}:nonce`, 60_000)).toBe(true);
    const me = newLeaseHolder();
    expect(await takeLease(store, "remediate:net", me, 60_000)).toBe(true);
    expect(await takeLease(store, "remediate:net", newLeaseHolder(), 60_000)).toBe(false); // me: alive
    await store.close();
  });
});
