// A webhook delivery is known by its id headers and, when signed, its body; one taken twice is refused. The memory is
// the store's, on both databases: shared by every process on the database, kept across opening it again, bounded,
// and of the same delivery claimed at once by several processes exactly one claim is taken.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeBackends } from "../../test/support/store-backends.ts";
import { deliveryKeys, WebhookDeliveries } from "./webhook-deliveries.ts";

const backends = storeBackends();
beforeAll(() => backends.start());
afterAll(() => backends.stop());

describe("webhook deliveries", () => {
  it("knows a delivery by each sender's id header, and by its body only when the body was signed", () => {
    const body = Buffer.from('{"ref":"refs/heads/main"}');
    const headers = { "x-github-delivery": "abc", "x-gitea-delivery": ["def"], "x-gitlab-event-uuid": " ", "content-type": "application/json" };
    expect(deliveryKeys(headers, body, false)).toEqual(["x-github-delivery:abc", "x-gitea-delivery:def"]);
    const signed = deliveryKeys({}, body, true);
    expect(signed).toEqual([expect.stringMatching(/^body:[0-9a-f]{64}$/)]);
    expect(deliveryKeys({}, Buffer.from("{}"), true)).not.toEqual(signed);
  });
});

describe.each(backends.list)("webhook deliveries in the store on $name", (backend) => {
  it("refuses a delivery one of whose keys was taken, and forgets a released one", async () => {
    const store = await (await backend.fresh()).open();
    const deliveries = new WebhookDeliveries(store);
    expect(await deliveries.claim(["x-github-delivery:a", "body:1"])).toBe(true);
    expect(await deliveries.claim(["x-github-delivery:b", "body:1"])).toBe(false); // the body again, under a new id
    expect(await deliveries.claim(["x-github-delivery:b", "body:2"])).toBe(true); // the refused claim noted nothing
    expect(await deliveries.claim(["body:3", "x-github-delivery:a"])).toBe(false); // a's id again, its body new
    expect(await deliveries.claim(["body:3"])).toBe(true); // noted by the refused claim before it met a's id: undone
    await deliveries.release(["x-github-delivery:b", "body:2"]);
    expect(await deliveries.claim(["x-github-delivery:b", "body:2"])).toBe(true);
    expect(await deliveries.claim(["x-github-delivery:a"])).toBe(false); // released keys only: a's stay
    expect(await deliveries.claim([])).toBe(true); // nothing to know it by: cannot be told apart
    await store.close();
  });

  it("remembers a delivery for every process on the database, and after the store is opened again", async () => {
    const db = await backend.fresh();
    const one = await db.open();
    const two = await db.open();
    expect(await new WebhookDeliveries(one).claim(["x-gitlab-event-uuid:e1"])).toBe(true);
    expect(await new WebhookDeliveries(two).claim(["x-gitlab-event-uuid:e1"])).toBe(false);
    await one.close();
    await two.close();
    const again = await db.open();
    expect(await new WebhookDeliveries(again).claim(["x-gitlab-event-uuid:e1"])).toBe(false);
    expect(await db.query("SELECT delivery_key FROM webhook_deliveries")).toEqual([{ delivery_key: "x-gitlab-event-uuid:e1" }]);
    await again.close();
  });

  it("takes a delivery claimed by several processes at once exactly once", async () => {
    const db = await backend.fresh();
    const replicas = await Promise.all([db.open(), db.open()]);
    for (let round = 0; round < 10; round++) {
      // A GitLab event (its id only), or a signed GitHub delivery (its id and its body) with the keys in either order.
      const keys = round % 2 === 0 ? [`x-gitlab-event-uuid:${round}`] : [`x-github-delivery:${round}`, `body:${round}`];
      // Four claims on each replica's pool at the same moment.
      const claims = replicas.flatMap((store) => [0, 1, 2, 3].map((n) => new WebhookDeliveries(store).claim(n % 2 === 0 ? keys : [...keys].reverse())));
      const taken = (await Promise.all(claims)).filter(Boolean);
      expect({ round, taken: taken.length }).toEqual({ round, taken: 1 });
    }
    expect(Number((await db.query("SELECT COUNT(*) AS n FROM webhook_deliveries"))[0]!.n)).toBe(15);
    await Promise.all(replicas.map((store) => store.close()));
  });

  it("forgets a key past its time, and all but the newest keys beyond the bound", async () => {
    const store = await (await backend.fresh()).open();
    const brief = new WebhookDeliveries(store, { ttlMs: 0 });
    expect(await brief.claim(["x-github-delivery:short"])).toBe(true);
    expect(await brief.claim(["x-github-delivery:short"])).toBe(true); // its time was up at once

    // At most two kept: a (the oldest to expire) goes when more come, b and c stay.
    const hours = (n: number) => new WebhookDeliveries(store, { ttlMs: n * 3_600_000, max: 2 });
    expect(await hours(1).claim(["a"])).toBe(true);
    expect(await hours(2).claim(["b"])).toBe(true);
    expect(await hours(3).claim(["c"])).toBe(true);
    expect(await hours(4).claim(["a"])).toBe(true);
    expect(await hours(4).claim(["c"])).toBe(false);
    await store.close();
  });
});
