import { describe, expect, it } from "vitest";
import type { KubeClient, KubeRequest } from "./client.ts";
import { Discovery, SHARED_DISCOVERY_MS, SharedDiscovery } from "./discovery.ts";

/** An API server stand-in answering discovery documents from `served` (group-version → kinds), counting requests. */
function fakeServer(served: Record<string, string[]>) {
  const asked: string[] = [];
  const client = {
    send: async (req: KubeRequest) => {
      asked.push(req.path);
      const apiVersion = req.path.replace(/^\/apis?\//, "");
      return { resources: (served[apiVersion] ?? []).map((kind) => ({ name: `${kind.toLowerCase()}s`, kind, namespaced: true })) };
    },
  } as unknown as KubeClient;
  return { client, asked };
}

const signal = new AbortController().signal;

describe("Discovery shared by runs", () => {
  it("answers a later run against the same cluster from an earlier run's reading, and another cluster not", async () => {
    const server = fakeServer({ v1: ["ConfigMap", "Service"] });
    const shared = new SharedDiscovery();
    expect(await new Discovery(server.client, signal, { answers: shared, cluster: "a" }).resolve("v1", "ConfigMap")).toEqual({ resource: "configmaps", namespaced: true });
    expect(await new Discovery(server.client, signal, { answers: shared, cluster: "a" }).resolve("v1", "Service")).toEqual({ resource: "services", namespaced: true });
    expect(server.asked).toEqual(["/api/v1"]);
    await new Discovery(server.client, signal, { answers: shared, cluster: "b" }).resolve("v1", "Service");
    expect(server.asked).toEqual(["/api/v1", "/api/v1"]);
  });

  it("asks again for a kind the shared answer lacks (a CRD created since), and after the answer's time is up", async () => {
    const served: Record<string, string[]> = { "example.com/v1": [] };
    const server = fakeServer(served);
    let now = 0;
    const shared = new SharedDiscovery(() => now);
    expect(await new Discovery(server.client, signal, { answers: shared, cluster: "a" }).resolve("example.com/v1", "Widget")).toBeUndefined();
    served["example.com/v1"] = ["Widget"];
    const later = new Discovery(server.client, signal, { answers: shared, cluster: "a" });
    expect(await later.resolve("example.com/v1", "Widget")).toEqual({ resource: "widgets", namespaced: true });
    expect(server.asked).toHaveLength(2);
    expect(await later.resolve("example.com/v1", "Gadget")).toBeUndefined(); // its own answer: not asked again
    expect(server.asked).toHaveLength(2);

    await new Discovery(server.client, signal, { answers: shared, cluster: "a" }).resolve("example.com/v1", "Widget");
    expect(server.asked).toHaveLength(2);
    now += SHARED_DISCOVERY_MS;
    await new Discovery(server.client, signal, { answers: shared, cluster: "a" }).resolve("example.com/v1", "Widget");
    expect(server.asked).toHaveLength(3);
  });

  it("forgets a group-version for every run when one run forgets it (after applying a CRD)", async () => {
    const server = fakeServer({ "example.com/v1": ["Widget"] });
    const shared = new SharedDiscovery();
    const run = new Discovery(server.client, signal, { answers: shared, cluster: "a" });
    await run.resolve("example.com/v1", "Widget");
    run.forget("example.com/v1");
    await new Discovery(server.client, signal, { answers: shared, cluster: "a" }).resolve("example.com/v1", "Widget");
    expect(server.asked).toHaveLength(2);
  });
});
