// The local Kubernetes API server the engine's tests run against: it serves the pinned release over TLS, takes
// server-side apply, enforces RBAC for a user outside system:masters, and goes away completely when stopped.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec, which } from "../src/toolchain/exec.ts";
import { apiRequest, type LocalCluster, READ_ONLY_RULES, startKubeCluster } from "./support/kube-cluster.ts";
import { testToolchain } from "./support/toolchain.ts";
import { isRunning } from "./support/processes.ts";

const configMap = (name: string) =>
  JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data: { greeting: "hello" } });


describe("the local Kubernetes API server", () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await startKubeCluster({
      users: [
        { name: "reader", clusterRole: "view" },
        { name: "auditor", rules: READ_ONLY_RULES },
      ],
    });
  });
  afterAll(() => cluster?.stop());

  it("serves the pinned Kubernetes release over TLS signed by the CA it hands out", async () => {
    const version = await apiRequest(cluster, cluster.token, "GET", "/version");
    expect(version.status).toBe(200);
    const pinned = testToolchain().manifest.kubernetes.kubeApiserver?.version;
    expect(JSON.parse(version.body).gitVersion).toBe(`v${pinned}`);
    expect(cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("takes a server-side apply dry run and stores nothing", async () => {
    const path = "/api/v1/namespaces/default/configmaps/x";
    const applied = await apiRequest(cluster, cluster.token, "PATCH", `${path}?fieldManager=t&dryRun=All&force=true`, {
      body: configMap("x"),
      contentType: "application/apply-patch+yaml",
    });
    expect(applied.status, applied.body).toBe(201);
    const object = JSON.parse(applied.body);
    expect(object.data).toEqual({ greeting: "hello" });
    expect(object.metadata.managedFields[0].manager).toBe("t");
    expect((await apiRequest(cluster, cluster.token, "GET", path)).status).toBe(404);
  });

  it("lets a user outside system:masters do only what RBAC grants it", async () => {
    const status = async (user: string, method: string, path: string, body?: string) =>
      (await apiRequest(cluster, cluster.tokenOf(user), method, path, body === undefined ? {} : { body })).status;
    const configMaps = "/api/v1/namespaces/default/configmaps";
    const secrets = "/api/v1/namespaces/default/secrets";
    // "view" as a real cluster has it (aggregated): reading most kinds, but not Secrets.
    expect(await status("reader", "GET", configMaps)).toBe(200);
    expect(await status("reader", "GET", secrets)).toBe(403);
    const create = await apiRequest(cluster, cluster.tokenOf("reader"), "POST", configMaps, { body: configMap("y") });
    expect(create.status).toBe(403);
    expect(JSON.parse(create.body).message).toContain('User "reader" cannot create resource "configmaps"');
    // READ_ONLY_RULES: reading everything, Secrets too, and still no writes.
    expect(await status("auditor", "GET", secrets)).toBe(200);
    expect(await status("auditor", "POST", configMaps, configMap("z"))).toBe(403);
  });

  it("writes kubeconfigs kubectl accepts", async () => {
    const kubectl = await which("kubectl");
    if (!kubectl) return; // kubectl is only an oracle here; the requests above do not need it
    const namespaces = await exec(kubectl, ["--kubeconfig", cluster.kubeconfig, "get", "namespaces", "-o", "name"]);
    expect(namespaces.code, namespaces.output).toBe(0);
    expect(namespaces.stdout).toContain("namespace/default");
    const canCreate = await exec(kubectl, ["--kubeconfig", cluster.writeKubeconfig("reader"), "auth", "can-i", "create", "configmaps"]);
    expect(canCreate.stdout.trim()).toBe("no");
  });

  it("stops both processes and removes its directory", async () => {
    const { pids, dir } = cluster;
    expect(isRunning(pids.etcd) && isRunning(pids.kubeApiserver)).toBe(true);
    await cluster.stop();
    expect(isRunning(pids.etcd)).toBe(false);
    expect(isRunning(pids.kubeApiserver)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
