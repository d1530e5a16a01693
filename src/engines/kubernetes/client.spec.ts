import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { KubeClient } from "./client.ts";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface FakeServer {
  url: string;
  /** Connections accepted so far. */
  connections: () => number;
  /** Authorization header of each request, in order. */
  authorizations: string[];
}

/** An HTTP API server stand-in answering `{}` to everything; `dropSecondRequest` resets a connection's second request unanswered. */
async function fakeServer(options: { dropSecondRequest?: boolean } = {}): Promise<FakeServer> {
  let connections = 0;
  const served = new WeakMap<Socket, number>();
  const authorizations: string[] = [];
  const server: Server = createServer((req, res) => {
    const count = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, count);
    authorizations.push(req.headers.authorization ?? "");
    // As a server that closes an idle connection just as the client reuses it: no answer, the connection gone.
    if (options.dropSecondRequest && count === 2) {
      req.socket.destroy();
      return;
    }
    res.setHeader("Content-Type", "application/json");
    res.end("{}");
  });
  server.on("connection", () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  cleanups.push(() => server.closeAllConnections());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, authorizations };
}

function kubeconfig(server: string, token: string): string {
  const dir = mkdtempSync(join(tmpdir(), "driftwatch-kubeclient-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "kubeconfig");
  writeFileSync(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server, "insecure-skip-tls-verify": true } }],
      users: [{ name: "u", user: { token } }],
      contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
      "current-context": "ctx",
    }),
  );
  return file;
}

describe("KubeClient connections", () => {
  it("keeps connections alive across requests and across clients of one server, each request with its own token", async () => {
    const server = await fakeServer();
    const first = KubeClient.load({ kubeconfig: kubeconfig(server.url, "token-of-stack-a") }, "a");
    const second = KubeClient.load({ kubeconfig: kubeconfig(server.url, "token-of-stack-b") }, "b");
    const signal = new AbortController().signal;
    for (let i = 0; i < 5; i++) await first.send({ method: "GET", path: "/api/v1" }, signal);
    for (let i = 0; i < 5; i++) await second.send({ method: "GET", path: "/api/v1" }, signal);
    expect(server.connections()).toBe(1);
    expect(server.authorizations).toEqual([...Array(5).fill("Bearer token-of-stack-a"), ...Array(5).fill("Bearer token-of-stack-b")]);
  });

  it("sends a request again on a new connection when the server closed the kept one as it was reused", async () => {
    const server = await fakeServer({ dropSecondRequest: true });
    const client = KubeClient.load({ kubeconfig: kubeconfig(server.url, "t") }, "a");
    const signal = new AbortController().signal;
    await client.send({ method: "GET", path: "/api/v1" }, signal);
    await expect(client.send({ method: "PATCH", path: "/api/v1/namespaces/x/configmaps/y", body: { a: 1 } }, signal)).resolves.toEqual({});
    expect(server.connections()).toBe(2);
    expect(server.authorizations).toHaveLength(3);
  });
});
