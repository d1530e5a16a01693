// A small client for the Kubernetes API: @kubernetes/client-node loads the kubeconfig and authenticates (tokens,
// client certificates, exec plugins, the in-cluster service account); requests go out raw, so server-side apply
// sends exactly the object we rendered (the library's typed models drop fields they do not know).
//
// The kubeconfig holds credentials, and so may what fails around it (a YAML error quotes the file, an exec plugin's
// stderr or output, an answer echoing the request): no error quotes the file, and every message is masked with the
// credentials this client loaded and sent (credentials.ts), whatever the service's own masker knows.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent as HttpAgent, request as httpRequest, type RequestOptions } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions } from "node:https";
import { dirname } from "node:path";
import { KubeConfig, type User } from "@kubernetes/client-node";
import type { KubernetesSettings } from "../../config/types.ts";
import { errorMessage } from "../../core/errors.ts";
import { SecretMasker } from "../../core/redact.ts";
import { kubeconfigSecrets, readTokenFile, SERVICE_ACCOUNT_TOKEN } from "./credentials.ts";
import { ClusterForbiddenError, ClusterUnauthorizedError, ClusterUnreachableError, KubeconfigError, KubernetesApiError } from "./errors.ts";

/** The largest response body read (a List of big objects is a few MiB; beyond this something is wrong). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** How much of a credential plugin's own error message is shown (its first line). */
const MAX_PLUGIN_MESSAGE = 300;

/** How long an idle connection to an API server is kept for the next request (Node's own global agent: 5 s). */
const IDLE_CONNECTION_MS = 5_000;

/** The most connection pools kept (one per API server and TLS identity); the oldest is forgotten beyond it. */
const MAX_POOLS = 64;

/** What makes two connections interchangeable: the server's scheme and every TLS option a request carries. */
const TLS_OPTIONS = ["ca", "cert", "key", "pfx", "passphrase", "rejectUnauthorized", "servername", "ciphers", "ecdhCurve", "crl", "secureOptions", "secureProtocol"] as const;

/**
 * Keep-alive connection pools, shared by every client of this process: the stacks of one cluster (and one run's
 * requests) reuse connections instead of a TLS handshake per request, as kubectl's one HTTP/2 connection does.
 * A pool is keyed by a digest of the TLS identity (server CA, client certificate and key, ...), so a connection made
 * with one client certificate never carries another's requests; bearer tokens and basic credentials travel in each
 * request's headers, which the API server authenticates one by one.
 */
const pools = new Map<string, HttpAgent>();

/** The TLS options of a request, in TLS_OPTIONS order. */
function tlsValues(options: RequestOptions): unknown[] {
  return TLS_OPTIONS.map((name) => (options as Record<string, unknown>)[name]);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return a === b;
}

function pooledAgent(protocol: string, values: readonly unknown[]): HttpAgent {
  const tls: AgentOptions = {};
  const digest = createHash("sha256").update(protocol);
  TLS_OPTIONS.forEach((name, i) => {
    const value = values[i];
    if (value === undefined) return;
    (tls as Record<string, unknown>)[name] = value;
    const parts = Array.isArray(value) ? value : [value];
    digest.update(`\0${name}=`);
    for (const part of parts) digest.update(Buffer.isBuffer(part) ? part : String(part)).update("\0");
  });
  const key = digest.digest("hex");
  let agent = pools.get(key);
  if (agent) {
    pools.delete(key); // most recently used last
  } else {
    const settings = { keepAlive: true, timeout: IDLE_CONNECTION_MS, scheduling: "lifo" as const };
    agent = protocol === "http:" ? new HttpAgent(settings) : new HttpsAgent({ ...tls, ...settings });
    // Forgotten, never destroyed: a request may still use it; its idle connections close on their own.
    if (pools.size >= MAX_POOLS) pools.delete(pools.keys().next().value!);
  }
  pools.set(key, agent);
  return agent;
}

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

function systemCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

function firstLine(text: string): string {
  const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  return line.length > MAX_PLUGIN_MESSAGE ? `${line.slice(0, MAX_PLUGIN_MESSAGE)}…` : line;
}

/**
 * Why a kubeconfig's text did not load, without quoting it: a YAML error's position (and its reason when that is
 * one of the parser's fixed phrases: some quote an alias or a tag, which can be a token), or the client's own checks.
 */
function loadFailure(error: unknown): string {
  if (error instanceof Error && error.name === "YAMLException") {
    const { reason, mark } = error as Error & { reason?: string; mark?: { line: number; column: number } };
    const why = reason && /^[A-Za-z0-9 ,()-]+$/.test(reason) ? `${reason}, ` : "";
    return `is not valid YAML (${why}${mark ? `line ${mark.line + 1}, column ${mark.column + 1}` : "position unknown"})`;
  }
  const code = systemCode(error);
  // A token-file the kubeconfig names, read while loading: the message names the path.
  if (code) return `cannot be loaded: ${firstLine(errorMessage(error))}`;
  const message = errorMessage(error);
  if (/^(clusters|users|contexts)\[\d+\]\.[\w.]+ is missing$/.test(message) || /^Duplicate (cluster|user|context): /.test(message)) return `is not a usable kubeconfig: ${firstLine(message)}`;
  return `is not a kubeconfig (${error instanceof Error ? error.name : typeof error} while reading it)`;
}

/** Why the credentials of `user` could not be turned into a request: an exec plugin's failure is its own words, masked. */
function credentialFailure(error: unknown, user: User | null, masker: SecretMasker): string {
  const plugin = user?.exec?.command ? `the exec plugin '${user.exec.command}'` : user?.authProvider?.name ? `the auth provider '${user.authProvider.name}'` : "the kubeconfig's credentials";
  // JSON.parse quotes what it could not read: the plugin's output, which may well be a token.
  if (error instanceof SyntaxError) return `${plugin} answered something that is not JSON (an ExecCredential was expected)`;
  const code = systemCode(error);
  if (code) return `${plugin} cannot be used: ${masker.text(firstLine(errorMessage(error)))}`;
  return `${plugin} failed: ${masker.text(firstLine(errorMessage(error))) || "no message"}`;
}

/** A kept-alive connection was closed by the server when it was reused (see #exchange). */
class StaleConnection extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

export class KubeClient {
  readonly server: string;
  readonly #config: KubeConfig;
  readonly #stack: string;
  /** The credentials of the kubeconfig, and those requests carried (an exec plugin's token): masked in every message. */
  readonly #masker: SecretMasker;
  readonly #sent = new Set<string>();
  /** The pool of this client's last request and the TLS options it was for (they rarely change between requests). */
  #pool: { protocol: string; values: unknown[]; agent: HttpAgent } | undefined;

  private constructor(config: KubeConfig, stack: string, masker: SecretMasker) {
    this.#config = config;
    this.#stack = stack;
    this.#masker = masker;
    const cluster = config.getCurrentCluster();
    if (!cluster?.server) throw new KubeconfigError(`stack ${stack}: the kubeconfig's context '${config.getCurrentContext()}' names no cluster with a server`);
    if (!config.getCurrentUser()) throw new KubeconfigError(`stack ${stack}: the kubeconfig's context '${config.getCurrentContext()}' names no user`);
    this.server = cluster.server.replace(/\/+$/, "");
  }

  /** From the stack's kubeconfig and context, or the in-cluster service account when it names none. */
  static load(settings: Pick<KubernetesSettings, "kubeconfig" | "context">, stack: string): KubeClient {
    const config = new KubeConfig();
    const masker = new SecretMasker();
    const where = settings.kubeconfig ? `kubernetes.kubeconfig '${settings.kubeconfig}'` : "the in-cluster service account (no kubernetes.kubeconfig set)";
    const fail = (why: string) => new KubeconfigError(masker.text(`stack ${stack}: ${where} ${why}`));
    if (settings.kubeconfig) {
      let text: string;
      try {
        text = readFileSync(settings.kubeconfig, "utf8");
      } catch (error) {
        throw fail(`cannot be read: ${firstLine(errorMessage(error))}`);
      }
      // Known before anything can fail: what it holds is masked even in the error of a kubeconfig that does not load.
      masker.add(kubeconfigSecrets(text, dirname(settings.kubeconfig)).secrets);
      try {
        // What loadFromFile does, from the text read once: the masker knows what the client loaded.
        config.loadFromString(text);
        config.makePathsAbsolute(dirname(settings.kubeconfig));
      } catch (error) {
        throw fail(loadFailure(error));
      }
    } else {
      try {
        masker.add(readTokenFile(SERVICE_ACCOUNT_TOKEN).secrets);
      } catch {
        // Not in a pod (or not yet mounted): the first request fails, naming the file.
      }
      try {
        config.loadFromCluster();
      } catch (error) {
        throw fail(`cannot be used: ${firstLine(errorMessage(error))}`);
      }
    }
    if (settings.context) {
      if (!config.getContextObject(settings.context)) {
        throw new KubeconfigError(masker.text(`stack ${stack}: kubernetes.context '${settings.context}' is not in the kubeconfig (it has: ${config.getContexts().map((c) => c.name).join(", ") || "none"})`));
      }
      config.setCurrentContext(settings.context);
    }
    return new KubeClient(config, stack, masker);
  }

  /** Learns what a request's options carry (the header an exec plugin's or a token file's token made, a password, a key). */
  #learn(options: RequestOptions & { headers: Record<string, string> }): void {
    const authorization = options.headers.Authorization ?? options.headers.authorization;
    const rawKey = (options as { key?: unknown }).key;
    const key = Buffer.isBuffer(rawKey) ? rawKey.toString("utf8") : typeof rawKey === "string" ? rawKey : undefined;
    const values = [authorization, authorization?.replace(/^\S+\s+/, ""), options.auth ?? undefined, key].filter((v): v is string => typeof v === "string" && v !== "" && !this.#sent.has(v));
    if (values.length === 0) return;
    for (const value of values) this.#sent.add(value);
    this.#masker.add(values.flatMap((v) => [v, Buffer.from(v, "utf8").toString("base64")]));
  }

  #agentFor(protocol: string, options: RequestOptions): HttpAgent {
    const values = tlsValues(options);
    const last = this.#pool;
    if (last && last.protocol === protocol && last.values.every((value, i) => sameValue(value, values[i]))) return last.agent;
    const agent = pooledAgent(protocol, values);
    this.#pool = { protocol, values, agent };
    return agent;
  }

  /** Sends one request; 2xx answers are parsed JSON, anything else a typed error naming the call. */
  async send<T = unknown>(req: KubeRequest, signal: AbortSignal): Promise<T> {
    const url = new URL(this.server + req.path);
    for (const [key, value] of Object.entries(req.query ?? {})) url.searchParams.set(key, value);
    const options: RequestOptions & { headers: Record<string, string> } = { method: req.method, headers: { Accept: "application/json" } };
    try {
      await this.#config.applyToHTTPSOptions(options);
    } catch (error) {
      throw new KubeconfigError(this.#masker.text(`stack ${this.#stack}: ${credentialFailure(error, this.#config.getCurrentUser(), this.#masker)}`));
    }
    this.#learn(options);
    // client-node's agent (one per kubeconfig load, no keep-alive) gives way to a shared keep-alive pool, unless
    // it goes through a proxy, which only its agent knows how to reach.
    if (!this.#config.getCurrentCluster()?.proxyUrl) options.agent = this.#agentFor(url.protocol, options);
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
    // An answer may echo the request (a proxy's error page with its headers): masked like everything else.
    const message = this.#masker.text(`stack ${this.#stack}: the API server refused ${what}: ${answer.message ?? text.slice(0, 300)}`);
    const causes = answer.details?.causes ?? [];
    if (status === 401) throw new ClusterUnauthorizedError(`${message} (the credentials were refused: an expired or revoked token?)`, status, reason);
    if (status === 403) throw new ClusterForbiddenError(`${message} (RBAC: docs/kubernetes.md lists the permissions a checker and a converger need)`, status, reason);
    throw new KubernetesApiError(message, status, reason, causes);
  }

  /**
   * One request and its answer. A kept-alive connection the server closed just as it was reused fails before any
   * answer (ECONNRESET): the request is sent once more on a new connection, as nothing of it was acted upon.
   */
  async #exchange(url: URL, options: RequestOptions, payload: Buffer | undefined, signal: AbortSignal, what: string): Promise<{ status: number; text: string }> {
    try {
      return await this.#exchangeOnce(url, options, payload, signal, what);
    } catch (error) {
      if (!(error instanceof StaleConnection)) throw error;
      return this.#exchangeOnce(url, options, payload, signal, what, true);
    }
  }

  #exchangeOnce(url: URL, options: RequestOptions, payload: Buffer | undefined, signal: AbortSignal, what: string, retried = false): Promise<{ status: number; text: string }> {
    const send = url.protocol === "http:" ? httpRequest : httpsRequest;
    return new Promise((resolvePromise, reject) => {
      let req: ReturnType<typeof send>;
      let answered = false;
      try {
        req = send(url, { ...options, signal }, (res) => {
          answered = true;
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
      } catch (error) {
        // A header Node refuses to send (a token file ending in a newline): its message names the header, not the value.
        if (systemCode(error) === "ERR_INVALID_CHAR") reject(new KubeconfigError(`stack ${this.#stack}: the kubeconfig's credentials cannot be sent: ${errorMessage(error)} (a token file that ends in a newline?)`));
        else reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (signal.aborted) reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        else if (req.reusedSocket && !answered && !retried && (error.code === "ECONNRESET" || error.code === "EPIPE")) reject(new StaleConnection(error));
        else reject(new ClusterUnreachableError(this.#masker.text(`stack ${this.#stack}: the API server ${this.server} did not answer ${what}: ${error.code ? `${error.code}: ` : ""}${error.message}`)));
      });
      req.end(payload);
    });
  }
}
