// How clients reach the local cluster: static bearer tokens (kube-apiserver's --token-auth-file), kubeconfig
// files naming the server, its CA and a user's token, and plain HTTPS requests that trust that CA.
import { randomBytes } from "node:crypto";
import { X509Certificate } from "node:crypto";
import { request } from "node:https";
import { stringify } from "yaml";

/** The cluster did not come up (a process exited, or it was not ready in time), is already running, or refused a setup step. */
export class LocalClusterError extends Error {
  override name = "LocalClusterError";
}

export const ADMIN_USER = "driftwatch-admin";
export const ADMIN_GROUP = "system:masters";

export interface ClusterUser {
  /** The user name the API server authenticates the token as (RBAC subjects name it). */
  name: string;
  /** Groups besides system:authenticated, which every authenticated user has. */
  groups?: readonly string[];
  /**
   * What RBAC grants the user cluster-wide: the rules of an existing ClusterRole ("view", "edit", "cluster-admin";
   * aggregated ones are aggregated here, as kube-controller-manager would, which the local cluster does not run)
   * and/or `rules`, together in a ClusterRole of its own (driftwatch:<user>) bound once the server is up. Without
   * either, RBAC allows the user nothing beyond discovery.
   */
  clusterRole?: string;
  rules?: readonly PolicyRule[];
}

/** An RBAC rule, as in a ClusterRole. */
export interface PolicyRule {
  verbs: readonly string[];
  apiGroups?: readonly string[];
  resources?: readonly string[];
  resourceNames?: readonly string[];
  nonResourceURLs?: readonly string[];
}

/** Reading every object of every kind (Secrets too), changing nothing. */
export const READ_ONLY_RULES: readonly PolicyRule[] = [{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "list", "watch"] }];

export interface TokenUser extends ClusterUser {
  token: string;
}

/** Thrown for a user name or group the token file cannot hold (it is CSV) or that is not known. */
export class ClusterUserError extends Error {
  override name = "ClusterUserError";
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9:._@-]*$/;

export function withTokens(users: readonly ClusterUser[]): TokenUser[] {
  const seen = new Set<string>();
  return users.map((user) => {
    for (const name of [user.name, ...(user.groups ?? [])]) {
      if (!NAME.test(name)) throw new ClusterUserError(`'${name}' is not a usable user or group name (letters, digits and :._@- only)`);
    }
    if (seen.has(user.name)) throw new ClusterUserError(`user '${user.name}' is listed twice`);
    seen.add(user.name);
    return { ...user, token: randomBytes(24).toString("hex") };
  });
}

/** kube-apiserver's --token-auth-file: `token,user,uid,"group1,group2"` per line. */
export function tokenAuthFile(users: readonly TokenUser[]): string {
  return users.map((u) => [u.token, u.name, u.name, ...(u.groups?.length ? [`"${u.groups.join(",")}"`] : [])].join(",")).join("\n") + "\n";
}

export interface KubeconfigOptions {
  server: string;
  /** PEM of the CA that signed the server's certificate. */
  ca: string;
  user: string;
  token: string;
  context: string;
}

export function kubeconfig(options: KubeconfigOptions): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: options.context, cluster: { server: options.server, "certificate-authority-data": Buffer.from(options.ca).toString("base64") } }],
    users: [{ name: options.user, user: { token: options.token } }],
    contexts: [{ name: options.context, context: { cluster: options.context, user: options.user, namespace: "default" } }],
    "current-context": options.context,
  });
}

/**
 * The CA certificate (PEM) out of a certificate file that kube-apiserver wrote for itself into --cert-dir (the
 * serving certificate followed by the self-signed CA that signed it); undefined while the file holds none yet.
 */
export function certificateAuthority(certificateFile: string): string | undefined {
  const blocks = certificateFile.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  for (const block of blocks) {
    try {
      const cert = new X509Certificate(block);
      if (cert.ca && cert.issuer === cert.subject) return block.endsWith("\n") ? block : `${block}\n`;
    } catch {
      // half-written: not there yet
    }
  }
  return undefined;
}

export interface ApiEndpoint {
  server: string;
  ca: string;
}

export interface ApiResponse {
  status: number;
  body: string;
}

export interface ApiRequestOptions {
  body?: string;
  contentType?: string;
  timeoutMs?: number;
}

/** One HTTPS request to the API server with a bearer token, trusting only the cluster's CA. */
export function apiRequest(endpoint: ApiEndpoint, token: string, method: string, path: string, options: ApiRequestOptions = {}): Promise<ApiResponse> {
  return new Promise((resolvePromise, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
    if (options.body !== undefined) {
      headers["content-type"] = options.contentType ?? "application/json";
      headers["content-length"] = String(Buffer.byteLength(options.body));
    }
    const req = request(new URL(path, endpoint.server), { method, ca: endpoint.ca, headers, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}
