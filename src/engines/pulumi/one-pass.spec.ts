// One `preview --refresh` separated into drift and pending. The events are shaped as the 3.259 CLI emitted them for
// a stack of LocalFiles (pulumi-nodejs dynamic resources; no changed keys reported), cut down to what is read.
import { DiffKind, type EngineEvent, type OpType, type StepEventMetadata, type StepEventStateMetadata } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { separateOnePass, verdictNeeded } from "./one-pass.ts";

const TYPE = "pulumi-nodejs:dynamic:Resource";
const STACK = "urn:pulumi:dev::demo-files::pulumi:pulumi:Stack::demo-files-dev";
const PROVIDER = "urn:pulumi:dev::demo-files::pulumi:providers:pulumi-nodejs::default::f791057d";
const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "[secret]" };
const urn = (name: string) => `urn:pulumi:dev::demo-files::${TYPE}::${name}`;

type Props = Record<string, unknown>;
/** A LocalFile's state: inputs and outputs alike (its read returns both), with the serialized provider. */
function state(name: string, content: unknown, extra: Props = {}): StepEventStateMetadata {
  const props = { __provider: "exports.handler = __f0;", content, path: `/w/${name}.txt` };
  return { type: TYPE, urn: urn(name), custom: true, id: `/w/${name}.txt`, parent: STACK, inputs: props, outputs: { ...props, ...extra }, provider: PROVIDER };
}
/** What the program declares, as a step's `new` shows it before the step runs. */
function declared(name: string, content: unknown): StepEventStateMetadata {
  return { ...state(name, content), id: "", outputs: {} };
}

let sequence = 0;
const event = (kind: "resourcePreEvent" | "resOutputsEvent", metadata: StepEventMetadata): EngineEvent =>
  ({ sequence: sequence++, timestamp: 0, [kind]: { metadata, planning: true } }) as unknown as EngineEvent;
const metadata = (op: OpType, name: string, old?: StepEventStateMetadata, next?: StepEventStateMetadata, extra: Partial<StepEventMetadata> = {}): StepEventMetadata => ({
  op,
  urn: old?.urn ?? next?.urn ?? urn(name),
  type: TYPE,
  ...(old ? { old } : {}),
  ...(next ? { new: next } : {}),
  detailedDiff: null as unknown as undefined,
  provider: PROVIDER,
  ...extra,
});

/** A refresh step: resourcePreEvent with the recorded state on both sides, resOutputsEvent with the refreshed one. */
function refresh(name: string, recorded: StepEventStateMetadata, refreshed: StepEventStateMetadata | undefined, extra: Partial<StepEventMetadata> = {}): EngineEvent[] {
  return [event("resourcePreEvent", metadata("refresh", name, recorded, recorded)), event("resOutputsEvent", metadata("refresh", name, recorded, refreshed, extra))];
}
/** A step of the program's run (its resourcePreEvent; the resOutputsEvent that follows is not read). */
function step(op: OpType, name: string, old: StepEventStateMetadata | undefined, next: StepEventStateMetadata | undefined, extra: Partial<StepEventMetadata> = {}): EngineEvent {
  return event("resourcePreEvent", { ...metadata(op, name, old, next, extra), logical: true });
}
/** The stack's own steps around the rest, as Pulumi emits them: never drift or pending. */
function pass(refreshes: EngineEvent[][], steps: EngineEvent[]): EngineEvent[] {
  const stack = { type: "pulumi:pulumi:Stack", urn: STACK, id: "", parent: "", inputs: {}, outputs: {}, provider: "" };
  const stackStep = (kind: "resourcePreEvent" | "resOutputsEvent", op: OpType) => event(kind, { op, urn: STACK, type: stack.type, old: stack, new: stack, provider: "" });
  return [stackStep("resourcePreEvent", "refresh"), stackStep("resOutputsEvent", "refresh"), ...refreshes.flat(), stackStep("resourcePreEvent", "same"), ...steps, stackStep("resOutputsEvent", "same")];
}

const names = (urns: string[]) => urns.map((u) => u.split("::").at(-1));
const nameOf = (e: EngineEvent) => (e.resOutputsEvent ?? e.resourcePreEvent)!.metadata.urn.split("::").at(-1)!;

describe("separateOnePass", () => {
  it("reads a drifted property the program puts back as drift only", () => {
    const events = pass([refresh("motd", state("motd", "Welcome.\n"), state("motd", "hand-edited\n"))], [step("update", "motd", state("motd", "hand-edited\n"), declared("motd", "Welcome.\n"))]);
    expect(separateOnePass(events)).toEqual({
      drift: [{ kind: "drift", address: urn("motd"), type: TYPE, action: "update", properties: [{ path: "content", desired: "Welcome.\n", actual: "hand-edited\n" }] }],
      pending: [],
      driftUnknown: [],
      pendingUnknown: [],
    });
  });

  it("reads a property drifted and changed in Git as both: recorded vs refreshed, and declared vs recorded", () => {
    const events = pass([refresh("motd", state("motd", "recorded\n"), state("motd", "hand-edited\n"))], [step("update", "motd", state("motd", "hand-edited\n"), declared("motd", "from Git\n"))]);
    const { drift, pending, driftUnknown, pendingUnknown } = separateOnePass(events);
    expect(drift.map((c) => c.properties)).toEqual([[{ path: "content", desired: "recorded\n", actual: "hand-edited\n" }]]);
    expect(pending).toEqual([{ kind: "pending", address: urn("motd"), type: TYPE, action: "update", properties: [{ path: "content", desired: "from Git\n", actual: "recorded\n" }] }]);
    expect([driftUnknown, pendingUnknown]).toEqual([[], []]);
  });

  it("leaves a declared value equal to the refreshed one to a plain preview: a moot drift and ignoreChanges look alike", () => {
    // The program declares what the file now holds (Git's new value, or the engine's copy of the refreshed value for
    // a property in ignoreChanges): the step is a "same".
    const events = pass([refresh("motd", state("motd", "recorded\n"), state("motd", "new\n"))], [step("same", "motd", state("motd", "new\n"), declared("motd", "new\n"))]);
    const first = separateOnePass(events);
    expect(first.drift.map((c) => [c.action, c.properties])).toEqual([["update", [{ path: "content", desired: "recorded\n", actual: "new\n" }]]]);
    expect(first.pending).toEqual([]);
    expect(names(first.pendingUnknown)).toEqual(["motd"]);

    const moot = [step("update", "motd", state("motd", "recorded\n"), declared("motd", "new\n"))];
    const answered = separateOnePass(events, { answers: { preview: pass([], moot) } });
    expect(answered.pending.map((c) => [c.action, c.properties])).toEqual([["update", [{ path: "content", desired: "new\n", actual: "recorded\n" }]]]);
    expect(answered.pendingUnknown).toEqual([]);
    const ignored = [step("same", "motd", state("motd", "recorded\n"), declared("motd", "recorded\n"))];
    expect(separateOnePass(events, { answers: { preview: pass([], ignored) } }).pending).toEqual([]);
  });

  it("reads a resource gone out of band: drift; pending only if Git removed it (and asks when Git declares it otherwise)", () => {
    const events = pass(
      [refresh("kept", state("kept", "k\n"), undefined), refresh("removed", state("removed", "r\n"), undefined), refresh("changed", state("changed", "c1\n"), undefined)],
      [step("create", "kept", undefined, declared("kept", "k\n")), step("create", "changed", undefined, declared("changed", "c2\n"))],
    );
    const { drift, pending, driftUnknown, pendingUnknown } = separateOnePass(events);
    expect(drift.map((c) => [c.action, c.address.split("::").at(-1), c.properties])).toEqual([
      ["delete", "kept", []],
      ["delete", "removed", []],
      ["delete", "changed", []],
    ]);
    expect(pending).toEqual([{ kind: "pending", address: urn("removed"), type: TYPE, action: "delete", properties: [] }]);
    expect(driftUnknown).toEqual([]);
    // Update or replacement, and with what defaults, is the provider's call on the recorded state: a plain preview.
    expect(names(pendingUnknown)).toEqual(["changed"]);
  });

  it("reads resources the refresh left alone exactly as a plain preview: updates, replacements, creations, deletions", () => {
    const events = pass(
      [refresh("settings", state("settings", "a\n"), state("settings", "a\n")), refresh("moved", state("moved", "m\n"), state("moved", "m\n")), refresh("old", state("old", "o\n"), state("old", "o\n"))],
      [
        step("update", "settings", state("settings", "a\n"), declared("settings", "b\n")),
        step("delete-replaced", "moved", state("moved", "m\n"), undefined, { keys: ["path"] }),
        step("replace", "moved", state("moved", "m\n"), { ...declared("moved", "m\n"), inputs: { content: "m\n", path: "/w/elsewhere.txt" } }, { keys: ["path"] }),
        step("create-replacement", "moved", state("moved", "m\n"), { ...declared("moved", "m\n"), inputs: { content: "m\n", path: "/w/elsewhere.txt" } }, { keys: ["path"] }),
        step("create", "extra", undefined, declared("extra", "added\n")),
        step("delete", "old", state("old", "o\n"), undefined),
      ],
    );
    const { drift, pending, driftUnknown, pendingUnknown } = separateOnePass(events);
    expect([drift, driftUnknown, pendingUnknown]).toEqual([[], [], []]);
    expect(pending.map((c) => [c.action, c.address.split("::").at(-1), c.properties.map((p) => p.path)])).toEqual([
      ["update", "settings", ["content"]],
      ["replace", "moved", ["content", "path"]],
      ["create", "extra", ["content", "path"]],
      ["delete", "old", []],
    ]);
  });

  it("asks a previewRefresh whether masked secrets drifted, then a plain preview whether Git changed a drifted one", () => {
    const recorded = (name: string) => state(name, SECRET);
    const events = pass(
      [refresh("reverted", recorded("reverted"), recorded("reverted")), refresh("rotated", recorded("rotated"), recorded("rotated"))],
      [step("update", "reverted", recorded("reverted"), declared("reverted", SECRET)), step("update", "rotated", recorded("rotated"), declared("rotated", SECRET))],
    );
    const first = separateOnePass(events);
    expect([first.drift, first.pending]).toEqual([[], []]);
    expect(names(first.driftUnknown)).toEqual(["reverted", "rotated"]);

    // The engine's own verdicts, from a preview-only refresh of those two: `reverted` drifted, `rotated` did not.
    const verdict = (op: OpType, name: string) => event("resOutputsEvent", metadata(op, name, recorded(name), recorded(name)));
    const refreshAnswer = [verdict("update", "reverted"), verdict("same", "rotated")];
    const second = separateOnePass(events, { answers: { refresh: refreshAnswer } });
    expect(second.drift).toEqual([{ kind: "drift", address: urn("reverted"), type: TYPE, action: "update", properties: [{ path: "content", desired: "[secret]", actual: "[secret]" }] }]);
    // `rotated` did not drift, so its step reads as a plain preview's: Git changed the secret.
    expect(second.pending).toEqual([{ kind: "pending", address: urn("rotated"), type: TYPE, action: "update", properties: [{ path: "content", desired: "[secret]", actual: "[secret]" }] }]);
    // `reverted` drifted: put back, or changed in Git as well? Masked on every side.
    expect([second.driftUnknown, names(second.pendingUnknown)]).toEqual([[], ["reverted"]]);

    const third = separateOnePass(events, { answers: { refresh: refreshAnswer, preview: pass([], [step("same", "reverted", recorded("reverted"), declared("reverted", SECRET))]) } });
    expect(third.pending.map((c) => c.address)).toEqual([urn("rotated")]);
    expect([third.driftUnknown, third.pendingUnknown]).toEqual([[], []]);
    expect(JSON.stringify(third)).not.toContain("ciphertext");
  });

  it("names, as each refresh step arrives, exactly the resources the pass will leave to the engine's verdict", () => {
    const keys = { diffs: ["content"], detailedDiff: { content: { diffKind: DiffKind.update, inputDiff: false } } };
    const refreshes = [
      refresh("masked", state("masked", SECRET), state("masked", SECRET)),
      refresh("masked-output", state("masked-output", "m\n", { token: SECRET }), state("masked-output", "m\n", { token: SECRET })),
      refresh("masked-edited", state("masked-edited", SECRET), { ...state("masked-edited", SECRET), inputs: { ...state("masked-edited", SECRET).inputs, path: "/elsewhere" } }),
      refresh("keyed", state("keyed", SECRET), state("keyed", SECRET), keys),
      refresh("plain", state("plain", "p\n"), state("plain", "q\n")),
      refresh("gone", state("gone", SECRET), undefined),
    ];
    const named = refreshes.flat().flatMap((e) => verdictNeeded(e) ?? []);
    // Only the first: the second's secret is an output the program's step can judge; the others have a verdict.
    expect(names(named)).toEqual(["masked"]);
    // Whatever the program declares, the pass leaves those to the engine's verdict.
    for (const op of ["same", "update"] as const) {
      const steps = refreshes.map(([, out]) => step(op, nameOf(out!), state(nameOf(out!), SECRET), declared(nameOf(out!), SECRET)));
      expect(names(separateOnePass(pass(refreshes, steps), { runProgram: true }).driftUnknown)).toEqual(expect.arrayContaining(names(named)));
    }
  });

  it("takes changed keys a provider reports on a refresh step as the engine's verdict, secrets or not", () => {
    const events = pass(
      [refresh("token", state("token", SECRET), state("token", SECRET), { diffs: ["content"], detailedDiff: { content: { diffKind: DiffKind.update, inputDiff: false } } })],
      [step("update", "token", state("token", SECRET), declared("token", SECRET))],
    );
    const { drift, driftUnknown } = separateOnePass(events);
    expect(drift.map((c) => [c.action, c.properties])).toEqual([["update", [{ path: "content", desired: "[secret]", actual: "[secret]" }]]]);
    expect(driftUnknown).toEqual([]);
  });

  it("lets the program's step judge a refresh when the program declares exactly the recorded inputs", () => {
    // Only an output changed: whether that is drift is the provider's diff, which is what the step ran.
    const noise = (op: OpType) =>
      pass([refresh("motd", state("motd", "m\n", { etag: "1" }), state("motd", "m\n", { etag: "2" }))], [step(op, "motd", state("motd", "m\n", { etag: "2" }), declared("motd", "m\n"))]);
    expect(separateOnePass(noise("same"))).toEqual({ drift: [], pending: [], driftUnknown: [], pendingUnknown: [] });
    const judged = separateOnePass(noise("update"));
    expect(judged.drift.map((c) => [c.action, c.properties])).toEqual([["update", [{ path: "etag", desired: "1", actual: "2" }]]]);
    expect([judged.pending, judged.pendingUnknown]).toEqual([[], []]);
    // The program changes the resource as well: the step no longer says what the refresh alone would.
    const changed = pass([refresh("motd", state("motd", "m\n", { etag: "1" }), state("motd", "m\n", { etag: "2" }))], [step("update", "motd", state("motd", "m\n", { etag: "2" }), declared("motd", "n\n"))]);
    expect(names(separateOnePass(changed).driftUnknown)).toEqual(["motd"]);
  });

  it("leaves a gone resource and a new one to a plain preview: the pair may be one resource renamed with an alias", () => {
    const events = pass([refresh("before", state("before", "x\n"), undefined)], [step("create", "after", undefined, declared("after", "x\n"))]);
    const { drift, pending, pendingUnknown } = separateOnePass(events);
    expect(drift.map((c) => c.action)).toEqual(["delete"]);
    expect(pending).toEqual([]);
    expect(names(pendingUnknown).sort()).toEqual(["after", "before"]);
    const renamed = separateOnePass(events, { answers: { preview: pass([], [step("same", "after", state("before", "x\n"), declared("after", "x\n"))]) } });
    expect([renamed.pending, renamed.pendingUnknown]).toEqual([[], []]);
  });

  it("follows a resource renamed with an alias from its old URN to its step", () => {
    // Same file, new name: the step starts from the state under the old URN.
    const renamed = { ...declared("after", "recorded\n"), inputs: state("before", "recorded\n").inputs };
    const events = pass([refresh("before", state("before", "recorded\n"), state("before", "hand-edited\n"))], [step("update", "after", state("before", "hand-edited\n"), renamed)]);
    const { drift, pending, pendingUnknown } = separateOnePass(events);
    expect(drift.map((c) => [c.action, c.address])).toEqual([["update", urn("before")]]);
    expect([pending, pendingUnknown]).toEqual([[], []]);
  });

  describe("refreshed as the program registers each resource (runProgram)", () => {
    it("asks a previewRefresh about a resource the program no longer declares: the pass never refreshed it", () => {
      const events = pass([], [step("delete", "removed", state("removed", "r\n"), undefined)]);
      const first = separateOnePass(events, { runProgram: true });
      expect([first.drift, names(first.driftUnknown)]).toEqual([[], ["removed"]]);
      // Gone out of band as well: drift delete and pending delete.
      const gone = event("resOutputsEvent", metadata("delete", "removed", state("removed", "r\n"), undefined));
      const answered = separateOnePass(events, { runProgram: true, answers: { refresh: [gone] } });
      expect([answered.drift, answered.pending].map((changes) => changes.map((c) => `${c.kind} ${c.action}`))).toEqual([["drift delete"], ["pending delete"]]);
      expect([answered.driftUnknown, answered.pendingUnknown]).toEqual([[], []]);
      // A component the program no longer declares: nothing a refresh could find.
      const component = { ...state("group", "g\n"), type: "my:index:Group", custom: false } as StepEventStateMetadata;
      const removedComponent = separateOnePass(pass([], [event("resourcePreEvent", { ...metadata("delete", "group", component, undefined), type: component.type })]), { runProgram: true });
      expect(removedComponent).toMatchObject({ drift: [], driftUnknown: [], pendingUnknown: [] });
      expect(removedComponent.pending.map((c) => `${c.action} ${c.type}`)).toEqual(["delete my:index:Group"]);
    });

    it("reads a resource the program only reads (`get`) from its read: recorded outputs against what is there now", () => {
      const external = (content: string) => ({ ...state("vpc", content), external: true }) as StepEventStateMetadata;
      const events = pass([], [step("read", "vpc", external("a\n"), external("a\n")), event("resOutputsEvent", metadata("read", "vpc", external("a\n"), external("b\n")))]);
      const { drift, pending, driftUnknown, pendingUnknown } = separateOnePass(events, { runProgram: true });
      expect(drift.map((c) => [c.action, c.properties])).toEqual([["update", [{ path: "content", desired: "a\n", actual: "b\n" }]]]);
      expect([pending, driftUnknown, pendingUnknown]).toEqual([[], [], []]);
    });

    it("distrusts a refresh made with a provider the program changes: not what a refresh of the state reads", () => {
      const provider = { type: "pulumi:providers:pulumi-nodejs", urn: PROVIDER.slice(0, PROVIDER.lastIndexOf("::")), id: "f791057d", parent: "", inputs: {}, outputs: {}, provider: "" };
      const providerStep = (op: OpType) => event("resourcePreEvent", { op, urn: provider.urn, type: provider.type, old: provider, new: provider, provider: "" });
      const refreshes = [refresh("motd", state("motd", "m\n"), state("motd", "m\n"))];
      const steps = [step("same", "motd", state("motd", "m\n"), declared("motd", "m\n"))];
      const changed = [...pass([], [providerStep("update")]), ...pass(refreshes, steps)];
      expect(names(separateOnePass(changed, { runProgram: true }).driftUnknown)).toEqual(["motd"]);
      // Refreshed before the program ran, with the recorded providers: the program's provider does not matter.
      expect(separateOnePass(changed).driftUnknown).toEqual([]);
      expect(separateOnePass([...pass([], [providerStep("same")]), ...pass(refreshes, steps)], { runProgram: true }).driftUnknown).toEqual([]);
    });
  });
});
