// Which resource serves a kind, and whether it is namespaced: the API server's discovery documents, read once per
// group-version per run.
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

export class Discovery {
  readonly #client: KubeClient;
  readonly #signal: AbortSignal;
  readonly #lists = new Map<string, Promise<Map<string, ResourceInfo> | undefined>>();

  constructor(client: KubeClient, signal: AbortSignal) {
    this.#client = client;
    this.#signal = signal;
  }

  /** The resource of `kind` in `apiVersion`; undefined when the server does not serve it. */
  async resolve(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    let list = this.#lists.get(apiVersion);
    if (!list) {
      list = this.#load(apiVersion);
      this.#lists.set(apiVersion, list);
    }
    return (await list)?.get(kind);
  }

  /** Forgets what was read (after a CRD was created, its group-version appears). */
  forget(apiVersion: string): void {
    this.#lists.delete(apiVersion);
  }

  async #load(apiVersion: string): Promise<Map<string, ResourceInfo> | undefined> {
    const path = groupOf(apiVersion) ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    try {
      const list = await this.#client.send<ApiResourceList>({ method: "GET", path }, this.#signal);
      const kinds = new Map<string, ResourceInfo>();
      // Subresources (deployments/scale) share kinds with their parents; only the top-level resource counts.
      for (const r of list.resources ?? []) if (!r.name.includes("/")) kinds.set(r.kind, { resource: r.name, namespaced: r.namespaced });
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
