// Kubernetes objects as Driftwatch handles them: plain JSON, identified by group, kind, namespace and name (the
// version is how an object is spoken to, not who it is).

/** A rendered or live object. Only what every object has is typed; the rest is the server's business. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeMetadata;
  [field: string]: unknown;
}

export interface KubeMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  managedFields?: ManagedFieldsEntry[];
  [field: string]: unknown;
}

/** One entry of metadata.managedFields: which manager set which fields, how and when. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: "Apply" | "Update";
  apiVersion?: string;
  time?: string;
  subresource?: string;
  fieldsType?: string;
  fieldsV1?: FieldSet;
}

/** A fieldsV1 set: `f:<field>`, `k:<json keys>` (a list item by key), `v:<json>` (a set item), `i:<n>`, `.` (the node itself). */
export interface FieldSet {
  [key: string]: FieldSet;
}

export interface ObjectId {
  group: string;
  kind: string;
  /** Undefined for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

export function versionOf(apiVersion: string): string {
  return apiVersion.slice(apiVersion.indexOf("/") + 1);
}

export function idOf(object: KubeObject): ObjectId {
  const { namespace, name } = object.metadata;
  return { group: groupOf(object.apiVersion), kind: object.kind, ...(namespace ? { namespace } : {}), name };
}

/** A stable key for maps: one per object whatever version it is written in. */
export function keyOf(id: ObjectId): string {
  return `${id.group}/${id.kind}/${id.namespace ?? ""}/${id.name}`;
}

/** The change's type: `Deployment.apps`, `ConfigMap` (the core group has no suffix). */
export function typeOf(id: Pick<ObjectId, "group" | "kind">): string {
  return id.group ? `${id.kind}.${id.group}` : id.kind;
}

/** The change's address: `Deployment.apps/web/frontend`, or `Namespace/web` for cluster-scoped objects. */
export function addressOf(id: ObjectId): string {
  return [typeOf(id), ...(id.namespace ? [id.namespace] : []), id.name].join("/");
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isNamespace(id: Pick<ObjectId, "group" | "kind">): boolean {
  return id.group === "" && id.kind === "Namespace";
}

export function isCrd(id: Pick<ObjectId, "group" | "kind">): boolean {
  return id.group === "apiextensions.k8s.io" && id.kind === "CustomResourceDefinition";
}

export function isSecret(id: Pick<ObjectId, "group" | "kind">): boolean {
  return id.group === "" && id.kind === "Secret";
}

/** The group and kind a CustomResourceDefinition object declares. */
export function crdServes(object: KubeObject): { group: string; kind: string } | undefined {
  const spec = object.spec;
  if (!isPlainObject(spec) || typeof spec.group !== "string" || !isPlainObject(spec.names) || typeof spec.names.kind !== "string") return undefined;
  return { group: spec.group, kind: spec.names.kind };
}
