// One `pulumi preview --refresh` read as the two answers a check gives: drift (what the refresh steps changed) and
// pending (what the program changes relative to the state as it was recorded, before that refresh).
//
// What the 3.259 engine emits (captured on drifted stacks): one deployment, one event stream. Each resource of the
// state gets a refresh step, op "refresh" in both its resourcePreEvent and its resOutputsEvent (old = recorded
// state; in the resOutputsEvent new = refreshed, absent when the resource is gone). Unlike a previewRefresh, whose
// resOutputsEvent carries the engine's verdict as its op (same/update/delete), these all say "refresh"; their
// `diffs`/`detailedDiff` are set only by providers that report changed keys (dynamic providers never do). Then
// each resource the program declares gets its usual step (same/update/create/replace/…, resourcePreEvent with
// `new.inputs` = the declared inputs, "same" included), diffed against the *refreshed* state: a drifted property
// the program declares as recorded shows as an update (a revert), a resource gone out of band as a create.
// Secrets are masked everywhere (`[secret]`): whether a secret changed is in the engine's verdict only.
// - Plain `--refresh`: all refresh steps first, with the recorded providers, then the program runs. A resource
//   gone out of band that Git removed too has no step after its refresh.
// - With `runProgram` (what detect uses: about the cost of a plain preview, where the above costs a refresh on
//   top): each resource is refreshed when the program registers it, with the provider the program declares,
//   right before its step. Resources the program no longer declares are not refreshed (a delete step from the
//   recorded state), nor are those it only reads (`get`: their read step goes from the recorded outputs to
//   what is there now, which is what a refresh of them compares).
//
// The separation, per resource:
// - drift: gone → delete; changed keys reported → update; recorded and refreshed identical (and no secret in
//   either) → none; `get` → outputs compared; the program declares exactly the recorded inputs → the program's
//   step decides (its diff, refreshed → declared, is then the very diff the engine judges a refresh by,
//   refreshed → recorded inputs); refreshed inputs differ → update. Anything else is `driftUnknown`: a masked
//   secret that may have changed, only outputs differing (the provider's diff decides), no refresh at all, or
//   a refresh made with a provider the program changes.
// - pending: a resource the refresh left as it was reads exactly as a plain preview would (its step's old state
//   is the recorded one). For a drifted one, pending = where the declared inputs differ from the *recorded*
//   inputs (desired = declared, actual = recorded): none when the step only puts drifted values back. A resource
//   no longer declared → delete. `pendingUnknown` where the events cannot say: a masked secret hides the
//   comparison; a declared value equals the refreshed one (Git declaring the drifted value, or `ignoreChanges`,
//   for which the engine copies the refreshed value into the declared inputs: the same events); a resource gone
//   out of band is declared with other inputs (only the provider knows whether that is an update or a
//   replacement, and its check of a create may fill in new defaults such as auto-names); a resource gone and
//   another created (maybe one resource renamed with an alias, which the events do not show).
//
// What the events cannot say is asked of the engine again, only then and only about those resources:
// `FallbackEvents` (see the Pulumi engine's detect).
import type { EngineEvent, OpType, StepEventMetadata, StepEventStateMetadata } from "@pulumi/pulumi/automation/index.js";
import { diffProperties, isPathWithin, secretPaths, valueAt } from "../../core/property-diff.ts";
import type { PropertyDiff, ResourceChange } from "../../core/types.ts";
import { changesFromEvents, isBookkeeping, maskSecrets, stepChange } from "./events.ts";

export interface Separation {
  drift: ResourceChange[];
  pending: ResourceChange[];
  /** Resources (URNs) whose drift the pass cannot tell: a preview-only refresh of them can. */
  driftUnknown: string[];
  /** Resources (URNs) whose pending change the pass cannot tell (given their drift): a plain preview can. */
  pendingUnknown: string[];
}

export interface OnePassOptions {
  /** The pass ran with `runProgram`: each resource refreshed as the program registered it. */
  runProgram?: boolean;
  /** The engine's answers for what the pass could not tell. */
  answers?: FallbackEvents;
}

/** The engine's answers for what one pass could not tell. */
export interface FallbackEvents {
  /** A previewRefresh of (at least) the `driftUnknown` resources. */
  refresh?: readonly EngineEvent[];
  /** A plain preview (no refresh): its reading stands for the `pendingUnknown` resources. */
  preview?: readonly EngineEvent[];
}

type Outcome = { kind: "same" } | { kind: "unknown" } | { kind: "deleted" | "updated"; change: ResourceChange };

interface Refreshed {
  urn: string;
  type: string;
  recorded: StepEventStateMetadata;
  /** The refresh step's outcome (resOutputsEvent); absent if the engine never reported one. */
  step?: StepEventMetadata;
}

/** The ops by which the program declares a resource (their `new.inputs` are the declared inputs). */
const DECLARING_OPS = new Set<OpType>(["same", "update", "replace", "create-replacement", "create", "import", "import-replacement"]);
const REPLACING_OPS = new Set<OpType>(["replace", "create-replacement", "delete-replaced", "import-replacement"]);

/** Values as the events let us see them: secrets masked, Pulumi's internals left out. */
function visible(value: Record<string, unknown> | undefined): unknown {
  return maskSecrets(value ?? {});
}

/** Where two property maps differ, as far as can be seen, and whether a masked secret could hide more. */
function compare(desired: Record<string, unknown> | undefined, actual: Record<string, unknown> | undefined): { differences: PropertyDiff[]; masked: boolean } {
  const a = visible(desired);
  const b = visible(actual);
  return { differences: diffProperties(a, b), masked: secretPaths(a, b).length > 0 };
}

function reportsChangedKeys(step: StepEventMetadata): boolean {
  return (step.diffs?.length ?? 0) > 0 || Object.keys(step.detailedDiff ?? {}).length > 0;
}

/** The program declares exactly the inputs the state recorded (no secret in the way of saying so). */
function declaresRecorded(declared: StepEventMetadata, recorded: StepEventStateMetadata): boolean {
  const { differences, masked } = compare(declared.new?.inputs, recorded.inputs);
  return differences.length === 0 && !masked;
}

function refreshOutcome(refreshed: Refreshed, declared: StepEventMetadata | undefined, changedProviders: ReadonlySet<string> | undefined): Outcome {
  const step = refreshed.step;
  // Not refreshed (no longer declared, and the program drove the refresh): a component never changes in a refresh.
  if (!step) return refreshed.recorded.custom ? { kind: "unknown" } : { kind: "same" };
  // Refreshed as the program registered it, with the provider the program declares: if that is not the recorded
  // provider as it was recorded, what it read is not what a refresh of the state reads.
  if (changedProviders && (step.provider !== refreshed.recorded.provider || changedProviders.has(providerUrn(step.provider)))) return { kind: "unknown" };
  // Drift is reported under the recorded URN, as a refresh of the state reports it.
  if (!step.new) return { kind: "deleted", change: { ...stepChange("drift", "delete", step), address: refreshed.urn } };
  const updated: Outcome = { kind: "updated", change: { ...stepChange("drift", "update", step), address: refreshed.urn } };
  if (reportsChangedKeys(step)) return updated;
  const inputs = compare(refreshed.recorded.inputs, step.new.inputs);
  const outputs = compare(refreshed.recorded.outputs, step.new.outputs);
  if (inputs.differences.length + outputs.differences.length === 0 && !inputs.masked && !outputs.masked) return { kind: "same" };
  // Pulumi judges a resource it does not manage (`get`) by its outputs alone.
  if ((refreshed.recorded as { external?: boolean }).external) {
    if (outputs.differences.length > 0) return updated;
    return outputs.masked ? { kind: "unknown" } : { kind: "same" };
  }
  if (declared && declaresRecorded(declared, refreshed.recorded)) return declared.op === "same" ? { kind: "same" } : updated;
  if (inputs.differences.length > 0) return updated;
  return { kind: "unknown" };
}

/**
 * The recorded URN of the resource whose refresh step `event` reports, when the pass can never settle its drift
 * whatever the program declares: no changed keys reported, no visible difference, and a masked secret among the
 * values a refresh is judged by (its inputs; the outputs of one it does not manage). refreshOutcome leaves such a
 * resource unknown, so a preview-only refresh of it can be asked while the pass goes on (see refresh-ahead.ts).
 */
export function verdictNeeded(event: EngineEvent): string | undefined {
  const step = event.resOutputsEvent?.metadata;
  if (step?.op !== "refresh" || !step.old || !step.new || isBookkeeping(step.type) || reportsChangedKeys(step)) return undefined;
  const external = (step.old as { external?: boolean }).external;
  const judged = external ? compare(step.old.outputs, step.new.outputs) : compare(step.old.inputs, step.new.inputs);
  return judged.differences.length === 0 && judged.masked ? step.old.urn : undefined;
}

/** The engine's verdict on each resource a previewRefresh reported, by URN. */
function verdictsOf(refreshEvents: readonly EngineEvent[]): Map<string, Outcome> {
  const verdicts = new Map<string, Outcome>();
  for (const event of refreshEvents) {
    const metadata = event.resOutputsEvent?.metadata;
    if (!metadata || verdicts.has(metadata.urn)) continue;
    const [change] = changesFromEvents("drift", [event]);
    verdicts.set(metadata.urn, change ? { kind: change.action === "delete" ? "deleted" : "updated", change } : { kind: "same" });
  }
  return verdicts;
}

/** The program's step for a resource that declares its inputs; undefined when the program no longer declares it. */
function declaringStep(steps: readonly StepEventMetadata[]): StepEventMetadata | undefined {
  return steps.find((s) => DECLARING_OPS.has(s.op) && s.new);
}

/** Whether a replacement among the steps is forced by one of the changed properties. */
function replaces(steps: readonly StepEventMetadata[], properties: readonly PropertyDiff[]): boolean {
  const keys = steps.filter((s) => REPLACING_OPS.has(s.op)).flatMap((s) => s.keys ?? []);
  return properties.some((p) => keys.some((k) => isPathWithin(p.path, k)));
}

type Pending = ResourceChange | "unknown" | undefined;

/**
 * What the program changes relative to the recorded state, for a resource the refresh found changed or gone: where
 * the declared inputs differ from the recorded ones. A declared value equal to the refreshed one is ambiguous: Git
 * may declare the drifted value (the drift made moot: pending), or the property is in `ignoreChanges`, for which
 * the engine copies the refreshed value into the declared inputs (not pending: a plain preview copies the recorded
 * one). The events do not carry `ignoreChanges`, so only a plain preview can tell.
 */
function pendingAfterDrift(refreshed: Refreshed, outcome: "deleted" | "updated", steps: readonly StepEventMetadata[]): Pending {
  const declared = declaringStep(steps);
  if (!declared) return { kind: "pending", address: refreshed.urn, type: refreshed.type, action: "delete", properties: [] };
  if (outcome === "deleted") return declaresRecorded(declared, refreshed.recorded) ? undefined : "unknown";
  const { differences, masked } = compare(declared.new?.inputs, refreshed.recorded.inputs);
  if (differences.length === 0) return masked ? "unknown" : undefined;
  const declaredValues = visible(declared.new?.inputs);
  const refreshedValues = visible(refreshed.step?.new?.inputs);
  const same = (path: string) => JSON.stringify(valueAt(declaredValues, path)) === JSON.stringify(valueAt(refreshedValues, path));
  if (differences.some((d) => same(d.path))) return "unknown";
  return { kind: "pending", address: declared.urn, type: declared.type, action: replaces(steps, differences) ? "replace" : "update", properties: differences };
}

/** The URN of a provider reference (`<urn>::<id>`). */
function providerUrn(reference: string): string {
  return reference.slice(0, reference.lastIndexOf("::"));
}

interface PassSteps {
  /** What each resource of the recorded state was refreshed to, by URN, in order. */
  refreshes: Map<string, Refreshed>;
  /** The program's steps, by the URN of the state they start from. */
  programSteps: Map<string, StepEventMetadata[]>;
  /** Providers whose configuration or identity the program changes. */
  changedProviders: Set<string>;
}

function stepsOf(events: readonly EngineEvent[]): PassSteps {
  const refreshes = new Map<string, Refreshed>();
  const reads = new Map<string, StepEventMetadata>();
  const programSteps = new Map<string, StepEventMetadata[]>();
  const changedProviders = new Set<string>();
  for (const event of events) {
    const pre = event.resourcePreEvent?.metadata;
    const out = event.resOutputsEvent?.metadata;
    const metadata = pre ?? out;
    if (!metadata) continue;
    if (metadata.type.startsWith("pulumi:providers:") && pre && pre.op !== "same" && pre.op !== "refresh") changedProviders.add(pre.urn);
    if (isBookkeeping(metadata.type)) continue;
    if (metadata.op === "refresh") {
      // Keyed by the recorded URN: refreshed as the program registered it, a renamed resource has its new one.
      const recorded = metadata.old;
      if (!recorded) continue;
      const known = refreshes.get(recorded.urn) ?? { urn: recorded.urn, type: metadata.type, recorded };
      if (out && !known.step) known.step = out;
      refreshes.set(recorded.urn, known);
    } else if (pre) {
      // A resource renamed with an alias starts from the state under its old URN.
      const key = pre.old?.urn ?? pre.urn;
      programSteps.set(key, [...(programSteps.get(key) ?? []), pre]);
    } else if (out?.old && (out.op === "read" || out.op === "read-replacement") && !reads.has(out.urn)) reads.set(out.urn, out);
  }
  // With the program driving the refresh, a resource it reads (`get`) is not refreshed: its read, from the
  // recorded state to what is there now, says the same. One it no longer declares is not refreshed at all.
  for (const [urn, read] of reads) if (!refreshes.has(urn)) refreshes.set(urn, { urn, type: read.type, recorded: read.old!, step: read });
  for (const [key, steps] of programSteps) {
    const recorded = steps.find((s) => s.old)?.old;
    if (recorded && !refreshes.has(key)) refreshes.set(key, { urn: key, type: recorded.type, recorded });
  }
  return { refreshes, programSteps, changedProviders };
}

/**
 * Drift and pending from the events of one `preview --refresh`, with what `answers` say for the resources the
 * events alone cannot settle. Without answers, those resources are listed in `driftUnknown`/`pendingUnknown` and
 * left out of `drift`/`pending`; a resource whose drift is unknown has an unknown pending change too.
 */
export function separateOnePass(events: readonly EngineEvent[], options: OnePassOptions = {}): Separation {
  const answers = options.answers ?? {};
  const { refreshes, programSteps, changedProviders } = stepsOf(events);
  // The program's steps read as a plain preview reads them: right wherever the refresh changed nothing.
  const asPreview = new Map(changesFromEvents("pending", events).map((c) => [c.address, c]));
  const previewAnswer = answers.preview ? new Map(changesFromEvents("pending", answers.preview).map((c) => [c.address, c])) : undefined;
  const refreshAnswer = answers.refresh ? verdictsOf(answers.refresh) : undefined;

  const drift: ResourceChange[] = [];
  const driftUnknown: string[] = [];
  const outcomes = new Map<string, Outcome>();
  for (const refreshed of refreshes.values()) {
    let outcome = refreshOutcome(refreshed, declaringStep(programSteps.get(refreshed.urn) ?? []), options.runProgram ? changedProviders : undefined);
    if (outcome.kind === "unknown") outcome = refreshAnswer?.get(refreshed.urn) ?? outcome;
    outcomes.set(refreshed.urn, outcome);
    if (outcome.kind === "unknown") driftUnknown.push(refreshed.urn);
    else if (outcome.kind !== "same") drift.push(outcome.change);
  }

  const pending: ResourceChange[] = [];
  const pendingUnknown: string[] = [];
  const add = (address: string, change: Pending) => {
    if (change !== "unknown") {
      if (change) pending.push(change);
    } else if (previewAnswer) {
      const answer = previewAnswer.get(address);
      if (answer) pending.push(answer);
    } else pendingUnknown.push(address);
  };
  // Gone out of band and declared no more; and created by the program out of nothing. A pair of these may be one
  // resource renamed in Git (an alias, which these events do not show): only a plain preview can pair them.
  const goneUndeclared = [...refreshes.values()].filter((r) => outcomes.get(r.urn)?.kind === "deleted" && !programSteps.has(r.urn));
  const created = [...programSteps.entries()].filter(([key, steps]) => !refreshes.has(key) && steps.some((s) => s.op === "create" || s.op === "import"));
  const maybeRenamed = goneUndeclared.length > 0 && created.length > 0;

  for (const [key, steps] of programSteps) {
    const address = steps[0]!.urn;
    const refreshed = refreshes.get(key);
    const outcome = outcomes.get(key);
    const unmanaged = refreshed && ((refreshed.recorded as { external?: boolean }).external || steps.some((s) => s.op === "read" || s.op === "read-replacement"));
    if (!refreshed || !outcome || outcome.kind === "same" || unmanaged) add(address, maybeRenamed && !refreshed ? "unknown" : asPreview.get(address));
    else if (outcome.kind === "unknown") add(address, "unknown");
    else add(address, pendingAfterDrift(refreshed, outcome.kind, steps));
  }
  for (const refreshed of goneUndeclared) {
    add(refreshed.urn, maybeRenamed ? "unknown" : { kind: "pending", address: refreshed.urn, type: refreshed.type, action: "delete", properties: [] });
  }
  return { drift, pending, driftUnknown, pendingUnknown };
}
