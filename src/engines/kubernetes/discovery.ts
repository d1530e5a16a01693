// Which resource serves a kind, and whether it is namespaced: the API server's discovery documents, read once per
// group-version per run, and shared for a few seconds by the runs of one engine against the same cluster (the stacks
// of one pass ask the same server the same questions). A kind a shared answer lacks is asked again before a run
// believes it is not served: a CRD another stack created since is found.
import type { KubeClient } from "./client.ts";
import { KubernetesApiError } from "./errors.ts";
import { groupOf, versionOf, type KubeObject } from "./objects.ts";

export interface ResourceInfo {
  /** The plural resource name in URLs (`deployments`). */
  resource: string;
  namespaced: boolean;
}

interface ApiResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

/** How long a group-version's resources, read by one run, answer the other runs against the same cluster. */
export const SHARED_DISCOVERY_MS = 10_000;

type Kinds = Map<string, ResourceInfo>;

/**
 * Discovery answers of several runs, per cluster (server and the credentials that asked): each group-version's
 * resources as a run read them, for SHARED_DISCOVERY_MS. Only answers that arrived are kept, so no run waits on
 * (or fails with) another run's request.
 */
export class SharedDiscovery {
  readonly #answers = new Map<string, { kinds: Kinds; at: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get(cluster: string, apiVersion: string): Kinds | undefined {
    const key = `${cluster}\0${apiVersion}`;
    const answer = this.#answers.get(key);
    if (answer && this.#now() - answer.at < SHARED_DISCOVERY_MS) return answer.kinds;
    this.#answers.delete(key);
    return undefined;
  }

  set(cluster: string, apiVersion: string, kinds: Kinds): void {
    this.#answers.set(`${cluster}\0${apiVersion}`, { kinds, at: this.#now() });
  }

  delete(cluster: string, apiVersion: string): void {
    this.#answers.delete(`${cluster}\0${apiVersion}`);
  }
}

export class Discovery {
  readonly #client: KubeClient;
  readonly #signal: AbortSignal;
  readonly #shared: { answers: SharedDiscovery; cluster: string } | undefined;
  /** What this run knows: read by it, or taken from the shared answers (`shared: true`). */
  readonly #lists = new Map<string, { kinds: Promise<Kinds | undefined>; shared: boolean }>();

  /** `shared`: the answers other runs against `cluster` (a key naming the server and the credentials) read. */
  constructor(client: KubeClient, signal: AbortSignal, shared?: { answers: SharedDiscovery; cluster: string }) {
    this.#client = client;
    this.#signal = signal;
    this.#shared = shared;
  }

  /** The resource of `kind` in `apiVersion`; undefined when the server does not serve it. */
  async resolve(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    let list = this.#lists.get(apiVersion);
    if (!list) {
      const known = this.#shared?.answers.get(this.#shared.cluster, apiVersion);
      list = known ? { kinds: Promise.resolve(known), shared: true } : { kinds: this.#load(apiVersion), shared: false };
      this.#lists.set(apiVersion, list);
    }
    const info = (await list.kinds)?.get(kind);
    if (info || !list.shared) return info;
    // Another run's answer lacks the kind: the server may serve it since (a CRD just created). This run asks itself.
    const own = { kinds: this.#load(apiVersion), shared: false };
    this.#lists.set(apiVersion, own);
    return (await own.kinds)?.get(kind);
  }

  /** Forgets what was read (after a CRD was created, its group-version appears). */
  forget(apiVersion: string): void {
    this.#lists.delete(apiVersion);
    this.#shared?.answers.delete(this.#shared.cluster, apiVersion);
  }

  async #load(apiVersion: string): Promise<Kinds | undefined> {
    const path = groupOf(apiVersion) ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    try {
      const list = await this.#client.send<ApiResourceList>({ method: "GET", path }, this.#signal);
      const kinds: Kinds = new Map();
      // Subresources (deployments/scale) share kinds with their parents; only the top-level resource counts.
      for (const r of list.resources ?? []) if (!r.name.includes("/")) kinds.set(r.kind, { resource: r.name, namespaced: r.namespaced });
      this.#shared?.answers.set(this.#shared.cluster, apiVersion, kinds);
      return kinds;
    } catch (error) {
      this.#lists.delete(apiVersion);
      if (error instanceof KubernetesApiError && error.status === 404) return undefined;
      throw error;
    }
  }
}

/** The URL path of an object (or of its collection when `name` is undefined). */
export function objectPath(object: Pick<KubeObject, "apiVersion">, info: ResourceInfo, namespace: string | undefined, name?: string): string {
  const base = groupOf(object.apiVersion) ? `/apis/${groupOf(object.apiVersion)}/${versionOf(object.apiVersion)}` : `/api/${versionOf(object.apiVersion)}`;
  const scoped = info.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}` : base;
  return `${scoped}/${info.resource}${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
}
