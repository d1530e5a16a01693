// Remotes git talks to over the network, for tests of what Driftwatch sends and how it copes: a remote that
// accepts connections and never answers, https servers that record each request's Authorization header, and an
// "ssh" that serves local repositories.
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createServer as createTcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { tempDir } from "./tempdir.ts";

/** A TCP server on 127.0.0.1 that accepts every connection and never says a word (a stalled git remote). */
export async function silentRemote(): Promise<{ url: (path: string) => string; connections: () => number }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return { url: (path) => `https://127.0.0.1:${port}/${path}`, connections: () => connections };
}

/** A self-signed certificate for 127.0.0.1 and 127.0.0.2; `caFile` is what GIT_SSL_CAINFO takes. */
export function loopbackCertificate(): { key: Buffer; cert: Buffer; caFile: string } {
  const dir = tempDir("driftwatch-cert-");
  const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,IP:127.0.0.2", "-keyout", key, "-out", cert],
    { stdio: "ignore" },
  );
  return { key: readFileSync(key), cert: readFileSync(cert), caFile: cert };
}

export interface RecordedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
}

type Answer = (request: RecordedRequest) => { status: number; headers?: Record<string, string>; body?: string };

/** An https server on `host` that records every request and answers with `answer`. */
export async function recordingHttpsServer(
  tls: { key: Buffer; cert: Buffer },
  host: "127.0.0.1" | "127.0.0.2",
  answer: Answer,
): Promise<{ origin: string; requests: RecordedRequest[] }> {
  const requests: RecordedRequest[] = [];
  const server: HttpsServer = createHttpsServer(tls, (request, response) => {
    const recorded = { method: request.method ?? "", url: request.url ?? "", authorization: request.headers.authorization };
    requests.push(recorded);
    const { status, headers, body } = answer(recorded);
    request.resume();
    response.writeHead(status, headers).end(body);
  });
  server.listen(0, host);
  await once(server, "listening");
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  return { origin: `https://${host}:${(server.address() as AddressInfo).port}`, requests };
}

function pktLine(text: string): string {
  return `${(text.length + 4).toString(16).padStart(4, "0")}${text}`;
}

/**
 * A smart-HTTP ref advertisement naming one branch, enough for git to go on and POST git-upload-pack (where a
 * token would follow it); the POST itself is then refused by the caller's answer.
 */
export function uploadPackAdvertisement(): { status: number; headers: Record<string, string>; body: string } {
  const commit = "1".repeat(40);
  const body =
    pktLine("# service=git-upload-pack\n") +
    "0000" +
    pktLine(`${commit} HEAD\0multi_ack_detailed side-band-64k ofs-delta symref=HEAD:refs/heads/main\n`) +
    pktLine(`${commit} refs/heads/main\n`) +
    "0000";
  return { status: 200, headers: { "content-type": "application/x-git-upload-pack-advertisement" }, body };
}

/**
 * A stand-in for ssh (GIT_SSH, with GIT_SSH_VARIANT=simple) that runs the remote command git asks for
 * (`git-upload-pack '/path'`) on this machine, so `ssh://localhost/<absolute path>` serves a local repository.
 * With `dumpEnvTo`, it first writes the environment it got (what git gives the programs it starts) to that file.
 */
export function localSsh(options: { dumpEnvTo?: string } = {}): string {
  const script = join(tempDir("driftwatch-ssh-"), "ssh");
  const dump = options.dumpEnvTo ? `env > '${options.dumpEnvTo}'\n` : "";
  // git calls it as `ssh <host> <command>`: run the last argument.
  writeFileSync(script, `#!/bin/sh\n${dump}for last; do :; done\nexec sh -c "$last"\n`, { mode: 0o755 });
  return script;
}
