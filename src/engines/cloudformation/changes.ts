// CloudFormation's answers as Driftwatch's resource changes: a drifted resource (DescribeStackResourceDrifts) and
// a change set's resource change (DescribeChangeSet with property values), secrets masked on the way.
import type { Change, StackResourceDrift } from "@aws-sdk/client-cloudformation";
import { isPathWithin, joinPath } from "../../core/property-diff.ts";
import { SECRET_MASK, SecretMasker } from "../../core/redact.ts";
import type { ChangeKind, PropertyDiff, ResourceAction, ResourceChange } from "../../core/types.ts";
import type { CfnTemplate } from "./template.ts";

/** `/Properties/Tags/0/Value` (a JSON pointer under Properties) → `Tags[0].Value`. */
export function propertyPathOf(pointer: string): string {
  const segments = pointer
    .replace(/^\/Properties(?=\/|$)/, "")
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  return segments.reduce<string>((path, s) => joinPath(path, /^\d+$/.test(s) ? Number(s) : s), "");
}

/** A value as CloudFormation reports it (a string; objects and lists as JSON). */
function valueOf(text: string | undefined): unknown {
  if (text === undefined) return null;
  if (/^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** Secret paths covering `path` (a secret inside it, or it inside a secret). */
function isSecretPath(secret: readonly string[], path: string): boolean {
  return secret.some((s) => s === "" || isPathWithin(path, s) || isPathWithin(s, path));
}

/** Masks what the template says is secret, and every NoEcho parameter value wherever it shows. */
export function masked(change: ResourceChange, template: Pick<CfnTemplate, "secretPaths" | "secretValues">): ResourceChange {
  const secret = template.secretPaths.get(change.address) ?? [];
  const properties = change.properties.map((p) =>
    isSecretPath(secret, p.path) ? { path: p.path, desired: SECRET_MASK, actual: SECRET_MASK } : p,
  );
  return { ...change, properties: new SecretMasker(template.secretValues, []).value(properties) };
}

/** A drifted resource; undefined for one in sync or not checked. */
export function driftChangeOf(drift: StackResourceDrift): ResourceChange | undefined {
  const base = { kind: "drift" as const, address: drift.LogicalResourceId ?? "?", type: drift.ResourceType ?? "?" };
  if (drift.StackResourceDriftStatus === "DELETED") return { ...base, action: "delete", properties: [] };
  if (drift.StackResourceDriftStatus !== "MODIFIED") return undefined;
  const properties: PropertyDiff[] = (drift.PropertyDifferences ?? []).map((d) => ({
    path: propertyPathOf(d.PropertyPath ?? ""),
    desired: d.DifferenceType === "ADD" ? null : valueOf(d.ExpectedValue),
    actual: d.DifferenceType === "REMOVE" ? null : valueOf(d.ActualValue),
  }));
  return { ...base, action: "update", properties };
}

const ACTIONS: Record<string, ResourceAction> = { Add: "create", Import: "create", Remove: "delete", Modify: "update", Dynamic: "update", SyncWithActual: "update" };

/**
 * One resource of a change set. A replacement CloudFormation calls Conditional counts as a replacement: the
 * guards must assume the worse.
 */
export function changeSetChangeOf(change: Change, kind: ChangeKind): ResourceChange | undefined {
  const rc = change.ResourceChange;
  if (!rc?.LogicalResourceId || !rc.Action) return undefined;
  const details = rc.Details ?? [];
  const replaced = rc.Action === "Modify" && (rc.Replacement === "True" || rc.Replacement === "Conditional");
  const byPath = new Map<string, PropertyDiff>();
  for (const d of details) {
    const target = d.Target;
    if (!target || target.Attribute !== "Properties") continue;
    const path = target.Path ? propertyPathOf(target.Path) : (target.Name ?? "");
    byPath.set(path, { path, desired: valueOf(target.AfterValue), actual: valueOf(target.BeforeValue) });
  }
  const replacePaths = details
    .filter((d) => d.Target?.RequiresRecreation === "Always" || d.Target?.RequiresRecreation === "Conditionally")
    .map((d) => (d.Target?.Path ? propertyPathOf(d.Target.Path) : (d.Target?.Name ?? "")));
  return {
    kind,
    address: rc.LogicalResourceId,
    type: rc.ResourceType ?? "?",
    action: replaced ? "replace" : (ACTIONS[rc.Action] ?? "update"),
    properties: [...byPath.values()],
    ...(replaced && replacePaths.length > 0 ? { replacePaths: [...new Set(replacePaths)] } : {}),
  };
}
