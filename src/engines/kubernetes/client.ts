// A small client for the Kubernetes API: @kubernetes/client-node loads the kubeconfig and authenticates (tokens,
// client certificates, exec plugins, the in-cluster service account); requests go out raw, so server-side apply
// sends exactly the object we rendered (the library's typed models drop fields they do not know).
import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import type { KubernetesSettings } from "../../config/types.ts";
import { errorMessage } from "../../core/errors.ts";
import { ClusterForbiddenError, ClusterUnauthorizedError, ClusterUnreachableError, KubeconfigError, KubernetesApiError } from "./errors.ts";

/** The largest response body read (a List of big objects is a few MiB; beyond this something is wrong). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface KubeRequest {
  method: "GET" | "PATCH" | "DELETE" | "POST";
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  contentType?: string;
}

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

/** The server's own message of an error answer, without anything but its text. */
function statusOf(body: unknown): StatusBody {
  return typeof body === "object" && body !== null && (body as StatusBody).kind === "Status" ? (body as StatusBody) : {};
}

export class KubeClient {
  readonly server: string;
  readonly #config: KubeConfig;
  readonly #stack: string;

  private constructor(config: KubeConfig, stack: string) {
    this.#config = config;
    this.#stack = stack;
    const cluster = config.getCurrentCluster();
    if (!cluster?.server) throw new KubeconfigError(`stack ${stack}: the kubeconfig's context '${config.getCurrentContext()}' names no cluster with a server`);
    if (!config.getCurrentUser()) throw new KubeconfigError(`stack ${stack}: the kubeconfig's context '${config.getCurrentContext()}' names no user`);
    this.server = cluster.server.replace(/\/+$/, "");
  }

  /** From the stack's kubeconfig and context, or the in-cluster service account when it names none. */
  static load(settings: Pick<KubernetesSettings, "kubeconfig" | "context">, stack: string): KubeClient {
    const config = new KubeConfig();
    try {
      if (settings.kubeconfig) config.loadFromFile(settings.kubeconfig);
      else config.loadFromCluster();
    } catch (error) {
      const where = settings.kubeconfig ? `kubernetes.kubeconfig '${settings.kubeconfig}'` : "the in-cluster service account (no kubernetes.kubeconfig set)";
      // The first line only: a YAML error goes on with a snippet of the file, which holds tokens and keys.
      throw new KubeconfigError(`stack ${stack}: cannot load ${where}: ${errorMessage(error).split("\n")[0]}`);
    }
    if (settings.context) {
      if (!config.getContextObject(settings.context)) {
        throw new KubeconfigError(`stack ${stack}: kubernetes.context '${settings.context}' is not in the kubeconfig (it has: ${config.getContexts().map((c) => c.name).join(", ") || "none"})`);
      }
      config.setCurrentContext(settings.context);
    }
    return new KubeClient(config, stack);
  }

  /** Sends one request; 2xx answers are parsed JSON, anything else a typed error naming the call. */
  async send<T = unknown>(req: KubeRequest, signal: AbortSignal): Promise<T> {
    const url = new URL(this.server + req.path);
    for (const [key, value] of Object.entries(req.query ?? {})) url.searchParams.set(key, value);
    const options: RequestOptions & { headers: Record<string, string> } = { method: req.method, headers: { Accept: "application/json" } };
    try {
      await this.#config.applyToHTTPSOptions(options);
    } catch (error) {
      throw new KubeconfigError(`stack ${this.#stack}: the kubeconfig's credentials cannot be used: ${errorMessage(error)}`);
    }
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    if (payload) {
      options.headers["Content-Type"] = req.contentType ?? "application/json";
      options.headers["Content-Length"] = String(payload.length);
    }
    const what = `${req.method} ${req.path}`;
    const { status, text } = await this.#exchange(url, options, payload, signal, what);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (status >= 200 && status < 300) return body as T;
    const answer = statusOf(body);
    const reason = answer.reason ?? `HTTP ${status}`;
    const message = `stack ${this.#stack}: the API server refused ${what}: ${answer.message ?? text.slice(0, 300)}`;
    const causes = answer.details?.causes ?? [];
    if (status === 401) throw new ClusterUnauthorizedError(`${message} (the credentials were refused: an expired or revoked token?)`, status, reason);
    if (status === 403) throw new ClusterForbiddenError(`${message} (RBAC: see the README for the permissions a checker and a converger need)`, status, reason);
    throw new KubernetesApiError(message, status, reason, causes);
  }

  #exchange(url: URL, options: RequestOptions, payload: Buffer | undefined, signal: AbortSignal, what: string): Promise<{ status: number; text: string }> {
    const send = url.protocol === "http:" ? httpRequest : httpsRequest;
    return new Promise((resolvePromise, reject) => {
      const req = send(url, { ...options, signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(new Error(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => resolvePromise({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (signal.aborted) reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        else reject(new ClusterUnreachableError(`stack ${this.#stack}: the API server ${this.server} did not answer ${what}: ${error.code ? `${error.code}: ` : ""}${error.message}`));
      });
      req.end(payload);
    });
  }
}
