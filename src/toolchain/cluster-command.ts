// `npm run cluster`: a local Kubernetes API server to point Driftwatch (or kubectl) at, until Ctrl-C or SIGTERM.
// Its data stays in the tool cache between runs (`npm run cluster -- --fresh` starts from nothing).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { LocalClusterError, startLocalCluster } from "./local-cluster.ts";
import type { ToolchainManifest } from "./manifest.ts";

export interface ClusterCommandOptions {
  manifest: ToolchainManifest;
  tools: string;
  args: readonly string[];
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

/** Where `npm run cluster` keeps the cluster's data, certificates, kubeconfig and logs. */
export function localClusterDir(tools: string): string {
  return join(tools, "local-cluster");
}

/** Resolves with the first SIGINT or SIGTERM; `release` removes the handlers. */
function stopSignal(): { received: Promise<NodeJS.Signals>; release(): void } {
  let release = () => {};
  const received = new Promise<NodeJS.Signals>((resolvePromise) => {
    const onSignal = (signal: NodeJS.Signals) => resolvePromise(signal);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    release = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    };
  });
  return { received, release };
}

export async function runClusterCommand(options: ClusterCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const unknown = options.args.filter((a) => a !== "--fresh");
  if (unknown.length > 0) {
    err.write(`unknown argument ${unknown.join(" ")}: 'npm run cluster' takes only --fresh (start from an empty cluster)\n`);
    return 1;
  }
  const { etcd, kubeApiserver } = options.manifest.kubernetes;
  if (!etcd || !kubeApiserver) throw new LocalClusterError("the toolchain has no etcd/kube-apiserver (provisioning should have built them)");
  const dir = localClusterDir(options.tools);
  if (options.args.includes("--fresh")) rmSync(dir, { recursive: true, force: true });

  // Handlers first: a Ctrl-C while the servers start must stop them, not end this process under them.
  const signal = stopSignal();
  try {
    err.write(`[cluster] starting etcd ${etcd.version} and kube-apiserver ${kubeApiserver.version} in ${dir} ...\n`);
    const starting = startLocalCluster({ etcd: etcd.bin, kubeApiserver: kubeApiserver.bin, dir, context: "driftwatch-local" });
    const first = await Promise.race([starting, signal.received]);
    if (typeof first === "string") {
      await starting.then((cluster) => cluster.stop()).catch(() => undefined);
      return 130;
    }
    const cluster = first;
    out.write(
      [
        `Kubernetes API server ${cluster.server} (kube-apiserver ${kubeApiserver.version}, etcd ${etcd.version}), no nodes`,
        `  admin kubeconfig: ${cluster.kubeconfig} (user driftwatch-admin, group system:masters)`,
        `  logs:             ${cluster.logs.kubeApiserver}, ${cluster.logs.etcd}`,
        "",
        `export KUBECONFIG=${cluster.kubeconfig}`,
        "",
        "Ctrl-C stops it; its data stays for the next 'npm run cluster' ('-- --fresh' starts over).",
        "",
      ].join("\n"),
    );
    const ended = await Promise.race([signal.received, cluster.exited]);
    await cluster.stop();
    if (typeof ended === "string") {
      err.write(`[cluster] stopped (${ended})\n`);
      return 0;
    }
    err.write(`[cluster] ${ended.name} exited on its own (code ${ended.code}, signal ${ended.signal}); see its log in ${dir}\n`);
    return 1;
  } finally {
    signal.release();
  }
}
