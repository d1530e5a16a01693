// kubectl's ApplySet convention (KEP-3659), so `kubectl` users see the same set Driftwatch manages: members carry
// `applyset.kubernetes.io/part-of=<id>`; a parent Secret in the stack's namespace carries the id, the tooling and
// the group-kinds (and other namespaces) its members live in.
import { createHash } from "node:crypto";
import { typeOf, type KubeObject, type ObjectId } from "./objects.ts";

export const PART_OF_LABEL = "applyset.kubernetes.io/part-of";
const ID_LABEL = "applyset.kubernetes.io/id";
const TOOLING = "applyset.kubernetes.io/tooling";
const GROUP_KINDS = "applyset.kubernetes.io/contains-group-kinds";
const NAMESPACES = "applyset.kubernetes.io/additional-namespaces";

export interface ApplySet {
  id: string;
  parent: { name: string; namespace: string };
}

/** The stack's ApplySet: parent Secret `driftwatch-<stack>` in the stack's namespace, and its id as kubectl derives it. */
export function applySetOf(stack: string, namespace: string): ApplySet {
  const name = `driftwatch-${stack.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "")}`.slice(0, 253);
  const hash = createHash("sha256").update(`${name}.${namespace}.Secret.`).digest("base64url");
  return { id: `applyset-${hash}-v1`, parent: { name, namespace } };
}

/** The member as applied: the part-of label added. */
export function asMember(object: KubeObject, set: ApplySet): KubeObject {
  const copy = structuredClone(object);
  copy.metadata.labels = { ...copy.metadata.labels, [PART_OF_LABEL]: set.id };
  return copy;
}

/** Whether a property path is the membership label (bookkeeping, not the user's drift). */
export function isMembershipPath(path: string): boolean {
  return path === `metadata.labels["${PART_OF_LABEL}"]`;
}

/** The parent Secret listing the group-kinds and namespaces of `members`. */
export function parentObject(set: ApplySet, members: readonly ObjectId[]): KubeObject {
  const kinds = [...new Set(members.map((m) => typeOf(m)))].sort();
  const namespaces = [...new Set(members.flatMap((m) => (m.namespace && m.namespace !== set.parent.namespace ? [m.namespace] : [])))].sort();
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: set.parent.name,
      namespace: set.parent.namespace,
      labels: { [ID_LABEL]: set.id },
      annotations: { [TOOLING]: "driftwatch/v1", [GROUP_KINDS]: kinds.join(","), ...(namespaces.length ? { [NAMESPACES]: namespaces.join(",") } : {}) },
    },
    type: "Opaque",
  };
}
