// A real Kubernetes API server for the Kubernetes engine's tests: etcd and kube-apiserver from the provisioned
// toolchain, on free loopback ports in a temporary directory (see src/toolchain/local-cluster.ts).
//
//   const cluster = await startKubeCluster({ users: [{ name: "reader", rules: READ_ONLY_RULES }] });
//   // cluster.kubeconfig (admin, context driftwatch-test), cluster.writeKubeconfig("reader"), cluster.server, ...
//   await cluster.stop();
import { startLocalCluster, type ClusterUser, type LocalCluster } from "../../src/toolchain/local-cluster.ts";
import { testToolchain } from "./toolchain.ts";

export { ADMIN_USER, apiRequest, type ApiResponse, type ClusterUser, type LocalCluster, type PolicyRule, READ_ONLY_RULES } from "../../src/toolchain/local-cluster.ts";

export interface KubeClusterOptions {
  /** Users besides the admin (in system:masters); e.g. `{ name: "reader", rules: READ_ONLY_RULES }`. */
  users?: readonly ClusterUser[];
  /** How long the API server may take to become ready; 120 s unless given (a busy CI machine is slow). */
  readyTimeoutMs?: number;
}

/** Starts a cluster; the caller stops it (in afterAll/afterEach, or onTestFinished). */
export async function startKubeCluster(options: KubeClusterOptions = {}): Promise<LocalCluster> {
  const { kubernetes } = testToolchain().manifest;
  if (!kubernetes.etcd || !kubernetes.kubeApiserver) {
    throw new Error("the toolchain has no etcd/kube-apiserver: run 'npm run provision' (or 'npm test') to build them");
  }
  return startLocalCluster({
    etcd: kubernetes.etcd.bin,
    kubeApiserver: kubernetes.kubeApiserver.bin,
    users: options.users ?? [],
    readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
  });
}
