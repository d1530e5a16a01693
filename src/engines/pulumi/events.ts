// Pulumi engine events → Driftwatch resource changes.
import type { EngineEvent, OpType, StepEventMetadata } from "@pulumi/pulumi/automation/index.js";
import { diffProperties, secretPaths, valueAt } from "../../core/property-diff.ts";
import { SECRET_MASK } from "../../core/redact.ts";
import type { ChangeKind, PropertyDiff, ResourceAction, ResourceChange } from "../../core/types.ts";

/** Pulumi's own bookkeeping resources are never drift or pending work of the user's. */
export function isBookkeeping(type: string): boolean {
  return type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:");
}

const PENDING_ACTIONS: Partial<Record<OpType, ResourceAction>> = {
  create: "create",
  update: "update",
  delete: "delete",
  replace: "replace",
  "create-replacement": "replace",
  "delete-replaced": "replace",
  import: "create",
  "import-replacement": "replace",
};

const DRIFT_ACTIONS: Partial<Record<OpType, ResourceAction>> = { update: "update", delete: "delete" };

/** Secret values arrive as `{ <sig>: ..., ciphertext: "[secret]" }` or "[secret]"; make them all the plain mask. */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    if ("4dabf18193072939515e22adb298388d" in record) return SECRET_MASK;
    return Object.fromEntries(Object.entries(record).filter(([k]) => k !== "__provider").map(([k, v]) => [k, maskSecrets(v)]));
  }
  return value;
}

function propertiesOf(kind: ChangeKind, action: ResourceAction, metadata: StepEventMetadata): PropertyDiff[] {
  // drift: what the state recorded (desired) against what refresh read (actual).
  // pending: what the program in Git declares (desired) against what the state holds (actual).
  const desired = maskSecrets(kind === "drift" ? metadata.old?.outputs : metadata.new?.inputs) ?? {};
  const actual = maskSecrets(kind === "drift" ? metadata.new?.outputs : metadata.old?.inputs) ?? {};
  if (action === "delete" && kind === "drift") return [];
  if (action === "delete" && kind === "pending") return [];
  const detailed = metadata.detailedDiff ? Object.keys(metadata.detailedDiff) : metadata.diffs;
  if (detailed && detailed.length > 0) {
    return [...detailed].sort().map((path) => ({ path, desired: valueAt(desired, path) ?? null, actual: valueAt(actual, path) ?? null }));
  }
  const visible = diffProperties(desired, actual);
  if (visible.length > 0 || action !== "update") return visible;
  // The engine says it changed but every difference is behind a secret: name the masked properties.
  return secretPaths(desired, actual).map((path) => ({ path, desired: SECRET_MASK, actual: SECRET_MASK }));
}

/** The change a step stands for, read as `kind` and `action` whatever its op says. */
export function stepChange(kind: ChangeKind, action: ResourceAction, metadata: StepEventMetadata): ResourceChange {
  return { kind, address: metadata.urn, type: metadata.type, action, properties: propertiesOf(kind, action, metadata) };
}

function changeOf(kind: ChangeKind, metadata: StepEventMetadata): ResourceChange | undefined {
  if (isBookkeeping(metadata.type)) return undefined;
  const action = (kind === "drift" ? DRIFT_ACTIONS : PENDING_ACTIONS)[metadata.op];
  if (!action) return undefined;
  return stepChange(kind, action, metadata);
}

/**
 * Changes from a previewRefresh (kind "drift": the outcome of each refresh step is in resOutputsEvent) or a
 * preview (kind "pending": resourcePreEvent). One change per resource, in event order.
 */
export function changesFromEvents(kind: ChangeKind, events: readonly EngineEvent[]): ResourceChange[] {
  const byUrn = new Map<string, ResourceChange>();
  for (const event of events) {
    const metadata = kind === "drift" ? event.resOutputsEvent?.metadata : event.resourcePreEvent?.metadata;
    if (!metadata) continue;
    const change = changeOf(kind, metadata);
    if (!change) continue;
    const seen = byUrn.get(change.address);
    // A replacement shows as several steps on one URN; keep the first, with the properties of the one that has them.
    if (!seen) byUrn.set(change.address, change);
    else if (seen.properties.length === 0) seen.properties = change.properties;
  }
  return [...byUrn.values()];
}


/**
 * The engine's refusals of operations outside the update plan it was held to (`up --plan`), one per resource:
 * "<urn>: <what>". Pulumi's own message shows the planned and the declared property values, secrets in plain
 * text, so only the kind of departure is kept.
 */
export function planRefusals(events: readonly EngineEvent[]): string[] {
  const refusals = new Set<string>();
  for (const event of events) {
    const diagnostic = event.diagnosticEvent;
    if (diagnostic?.severity !== "error") continue;
    const what = refusalOf(diagnostic.message);
    if (what) refusals.add(`${diagnostic.urn ?? "the stack"}: ${what}`);
  }
  return [...refusals];
}

/** Whether a Pulumi error message is a refusal of an operation outside the update plan. */
export function isPlanRefusal(message: string): boolean {
  return refusalOf(message) !== undefined;
}

function refusalOf(message: string): string | undefined {
  // "create is not allowed by the plan: no steps were expected for this resource": fixed words only.
  const step = /\b([a-z-]+) is not allowed by the plan: ([a-z -]+)/.exec(message);
  if (step) return `${step[1]} is not allowed by the plan: ${step[2]!.trim()}`;
  // "resource <urn> violates plan: properties changed: ~~content[{planned}!={declared}]": the first words only.
  const goal = /violates plan: ([A-Za-z ]+)/.exec(message);
  if (goal) return `it violates the plan: ${goal[1]!.trim()}`;
  return undefined;
}
