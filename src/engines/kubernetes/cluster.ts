// One run's conversation with the cluster: objects resolved to their resources, read live, dry-run with
// server-side apply, applied and deleted. Every call names the object it was about when it fails.
import type { Logger } from "pino";
import type { KubernetesSettings } from "../../config/types.ts";
import type { KubeClient } from "./client.ts";
import { Discovery, objectPath, type ResourceInfo, type SharedDiscovery } from "./discovery.ts";
import { KubernetesApiError, ManifestError, UnknownKindError } from "./errors.ts";
import { addressOf, crdServes, idOf, isCrd, isPlainObject, keyOf, type KubeObject, type ObjectId } from "./objects.ts";
import type { RenderedObject } from "./render.ts";
import { LAST_APPLIED } from "./secrets.ts";

/** An object of the stack, resolved: its resource (undefined while only a CRD of the same set declares its kind). */
export interface Target {
  id: ObjectId;
  key: string;
  address: string;
  object: KubeObject;
  info?: ResourceInfo;
  origin: string;
}

/** What a dry run answered: the object as it would be, or why there is none. */
export type DryRun = { ok: KubeObject } | { namespaceMissing: true } | { immutable: string[] };

/** Metadata a manifest may carry (exported from a cluster) that is the server's to set. */
const SERVER_METADATA = ["resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink", "deletionTimestamp"];

/**
 * The object as it should be applied: no status, no server metadata, and no kubectl last-applied annotation (an
 * exported manifest's copy of itself, Secrets included: kubectl's bookkeeping, never Driftwatch's to apply).
 */
function normalized(object: KubeObject): KubeObject {
  const { status: _status, ...rest } = structuredClone(object);
  const metadata = { ...rest.metadata };
  for (const field of SERVER_METADATA) delete metadata[field];
  if (metadata.annotations && LAST_APPLIED in metadata.annotations) {
    const { [LAST_APPLIED]: _copy, ...annotations } = metadata.annotations;
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  return { ...rest, metadata } as KubeObject;
}

/** A core (v1) object Driftwatch itself manages or looks at (the ApplySet parent, a namespace), as a target. */
export function coreTarget(object: KubeObject, resource: string, origin: string): Target {
  const id = idOf(object);
  return { id, key: keyOf(id), address: addressOf(id), object, info: { resource, namespaced: id.namespace !== undefined }, origin };
}

export class Cluster {
  readonly discovery: Discovery;
  readonly #client: KubeClient;
  readonly #settings: KubernetesSettings;
  readonly #signal: AbortSignal;
  readonly #stack: string;
  readonly #logger: Logger;

  /** `shared`: discovery answers of the engine's other runs (see Discovery); none: this run reads its own. */
  constructor(client: KubeClient, settings: KubernetesSettings, stack: string, signal: AbortSignal, logger: Logger, shared?: SharedDiscovery) {
    this.#client = client;
    // Runs share answers when they ask the same server with the same kubeconfig and context.
    const cluster = `${client.server}\0${settings.kubeconfig ?? "(in-cluster)"}\0${settings.context ?? ""}`;
    this.discovery = new Discovery(client, signal, shared ? { answers: shared, cluster } : undefined);
    this.#settings = settings;
    this.#signal = signal;
    this.#stack = stack;
    this.#logger = logger;
  }

  get server(): string {
    return this.#client.server;
  }

  /**
   * Each object with its resource and namespace (the stack's default for namespaced objects that name none;
   * none for cluster-scoped ones). A kind the server does not serve is an error unless a CRD of `declared` serves it.
   */
  async targets(rendered: readonly RenderedObject[], declared: readonly KubeObject[], options: { unknownKinds: "error" | "absent" } = { unknownKinds: "error" }): Promise<Target[]> {
    const crds = declared.filter((o) => isCrd(idOf(o)));
    const seen = new Map<string, string>();
    const targets: Target[] = [];
    for (const { object: raw, origin } of rendered) {
      const object = normalized(raw);
      const info = await this.discovery.resolve(object.apiVersion, object.kind);
      let namespaced = info?.namespaced;
      if (!info) {
        const crd = crds.find((c) => {
          const serves = crdServes(c);
          return serves && serves.kind === object.kind && object.apiVersion.startsWith(`${serves.group}/`);
        });
        if (!crd && options.unknownKinds === "absent") {
          // An object of the last apply whose kind the server no longer serves (its CRD went): it is gone.
          targets.push({ id: idOf(object), key: keyOf(idOf(object)), address: addressOf(idOf(object)), object, origin });
          continue;
        }
        if (!crd) {
          throw new UnknownKindError(`stack ${this.#stack}: ${origin}: the API server ${this.#client.server} does not serve kind ${object.kind} in ${object.apiVersion} (a missing CRD, or a wrong apiVersion)`);
        }
        namespaced = isPlainObject(crd.spec) && crd.spec.scope === "Namespaced";
      }
      if (namespaced) object.metadata.namespace ??= this.#settings.namespace;
      else delete object.metadata.namespace;
      const id = idOf(object);
      const key = keyOf(id);
      const earlier = seen.get(key);
      if (earlier) throw new ManifestError(`stack ${this.#stack}: ${origin}: ${addressOf(id)} is declared twice (first at ${earlier})`);
      seen.set(key, origin);
      targets.push({ id, key, address: addressOf(id), object, ...(info ? { info } : {}), origin });
    }
    return targets;
  }

  /** The live object, or undefined when it does not exist (or its kind is not served yet). */
  async live(target: Target): Promise<KubeObject | undefined> {
    if (!target.info) return undefined;
    try {
      return await this.#client.send<KubeObject>({ method: "GET", path: this.#path(target) }, this.#signal);
    } catch (error) {
      if (error instanceof KubernetesApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** A server-side apply dry run (force, our field manager, strict field validation) of `object` as `target`. */
  async dryRun(target: Target, object: KubeObject): Promise<DryRun> {
    if (!target.info) return { namespaceMissing: true };
    try {
      return { ok: await this.#apply(target, object, true) };
    } catch (error) {
      if (error instanceof KubernetesApiError && error.status === 404 && target.id.namespace) return { namespaceMissing: true };
      const immutable = immutableFields(error);
      if (immutable) return { immutable };
      throw error;
    }
  }

  /** Server-side apply of `object` (force, our field manager). A resourceVersion in it is a precondition. */
  apply(target: Target, object: KubeObject): Promise<KubeObject> {
    return this.#apply(target, object, false);
  }

  async #apply(target: Target, object: KubeObject, dryRun: boolean): Promise<KubeObject> {
    const query: Record<string, string> = { fieldManager: this.#settings.fieldManager, force: "true", fieldValidation: "Strict" };
    if (dryRun) query.dryRun = "All";
    return this.#client.send<KubeObject>({ method: "PATCH", path: this.#path(target), query, body: object, contentType: "application/apply-patch+yaml" }, this.#signal);
  }

  /** Deletes the object if it is still at `resourceVersion` (else a 409 Conflict). */
  async delete(target: Target, resourceVersion: string): Promise<void> {
    const body = { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background", preconditions: { resourceVersion } };
    try {
      await this.#client.send({ method: "DELETE", path: this.#path(target), body }, this.#signal);
    } catch (error) {
      if (error instanceof KubernetesApiError && error.status === 404) return;
      throw error;
    }
  }

  /** Waits, polling, until `check` says yes (a CRD established, an object gone); the run's timeout bounds it. */
  async waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let delay = 100; !(await check()); delay = Math.min(delay * 2, 2000)) {
      this.#signal.throwIfAborted();
      this.#logger.debug({ what }, "waiting");
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** After a CRD was created: its kinds are served once it is established, and discovery must be read again. */
  async resolveAgain(target: Target): Promise<Target> {
    this.discovery.forget(target.object.apiVersion);
    const info = await this.discovery.resolve(target.object.apiVersion, target.object.kind);
    if (!info) throw new UnknownKindError(`stack ${this.#stack}: ${target.origin}: kind ${target.object.kind} is still not served after its CRD was applied`);
    return { ...target, info };
  }

  #path(target: Target): string {
    return objectPath(target.object, target.info!, target.id.namespace, target.id.name);
  }
}

/** The fields an Invalid answer says are immutable, or undefined when the refusal is about something else. */
function immutableFields(error: unknown): string[] | undefined {
  if (!(error instanceof KubernetesApiError) || error.status !== 422) return undefined;
  const causes = error.causes.filter((c) => /immutable/i.test(c.message ?? ""));
  if (causes.length === 0 && !/immutable/i.test(error.message)) return undefined;
  return causes.map((c) => c.field ?? "").filter((f) => f !== "");
}
