// A webhook delivery is known by its id headers and, when signed, its body; one taken twice is refused.
import { describe, expect, it } from "vitest";
import { deliveryKeys, WebhookDeliveries } from "./webhook-deliveries.ts";

describe("webhook deliveries", () => {
  it("knows a delivery by each sender's id header, and by its body only when the body was signed", () => {
    const body = Buffer.from('{"ref":"refs/heads/main"}');
    const headers = { "x-github-delivery": "abc", "x-gitea-delivery": ["def"], "x-gitlab-event-uuid": " ", "content-type": "application/json" };
    expect(deliveryKeys(headers, body, false)).toEqual(["x-github-delivery:abc", "x-gitea-delivery:def"]);
    const signed = deliveryKeys({}, body, true);
    expect(signed).toEqual([expect.stringMatching(/^body:[0-9a-f]{64}$/)]);
    expect(deliveryKeys({}, Buffer.from("{}"), true)).not.toEqual(signed);
  });

  it("refuses a delivery one of whose keys was taken, and forgets a released one", () => {
    const deliveries = new WebhookDeliveries();
    expect(deliveries.claim(["x-github-delivery:a", "body:1"])).toBe(true);
    expect(deliveries.claim(["x-github-delivery:b", "body:1"])).toBe(false); // the body again, under a new id
    expect(deliveries.claim(["x-github-delivery:b", "body:2"])).toBe(true); // the refused claim noted nothing
    deliveries.release(["x-github-delivery:b", "body:2"]);
    expect(deliveries.claim(["x-github-delivery:b", "body:2"])).toBe(true);
    expect(deliveries.claim([])).toBe(true); // nothing to know it by: cannot be told apart
  });
});
