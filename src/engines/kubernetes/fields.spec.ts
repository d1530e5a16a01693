import { describe, expect, it } from "vitest";
import { appliedFields, differingFields, ownersOf, withoutFields } from "./fields.ts";
import type { KubeObject } from "./objects.ts";

const deployment = (image: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "prod" },
  spec: {
    replicas: 1,
    template: { spec: { containers: [{ name: "sidecar", image: "envoy:1" }, { name: "web", image, imagePullPolicy: "IfNotPresent" }] } },
    ...extra,
  },
});

const ours = {
  "f:spec": {
    "f:template": { "f:spec": { "f:containers": { 'k:{"name":"web"}': { ".": {}, "f:name": {}, "f:image": {} } } } },
  },
};

describe("differingFields", () => {
  it("compares only the owned fields, matching list items by key whatever their index", () => {
    const desired = deployment("nginx:1.27");
    const actual = deployment("nginx:edited", { replicas: 7 });
    // The actual object lists the containers the other way round: matched by name, reported at desired's index.
    (actual.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers.reverse();
    expect(differingFields(ours, desired, actual)).toEqual([
      { path: "spec.template.spec.containers[1].image", keys: ["f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"web"}', "f:image"], desired: "nginx:1.27", actual: "nginx:edited" },
    ]);
  });

  it("reports an owned list item that is gone, and one that only the actual side has", () => {
    const desired = deployment("nginx:1.27");
    const actual = { ...desired, spec: { template: { spec: { containers: [{ name: "sidecar", image: "envoy:1" }] } } } };
    expect(differingFields(ours, desired, actual).map((d) => [d.path, d.actual])).toEqual([["spec.template.spec.containers[1]", undefined]]);
    expect(differingFields(ours, actual, desired).map((d) => [d.path, d.desired])).toEqual([["spec.template.spec.containers[1]", undefined]]);
  });

  it("never compares status or server-set metadata", () => {
    const set = { "f:status": { "f:replicas": {} }, "f:metadata": { "f:resourceVersion": {}, "f:labels": { "f:app": {} } } };
    const a = { apiVersion: "v1", kind: "X", metadata: { name: "a", resourceVersion: "1", labels: { app: "a" } }, status: { replicas: 1 } };
    const b = { apiVersion: "v1", kind: "X", metadata: { name: "a", resourceVersion: "2", labels: { app: "b" } }, status: { replicas: 2 } };
    expect(differingFields(set, a, b).map((d) => d.path)).toEqual(["metadata.labels.app"]);
  });
});

describe("ownership", () => {
  const live: KubeObject = {
    ...deployment("nginx:edited"),
    metadata: {
      name: "web",
      managedFields: [
        { manager: "driftwatch", operation: "Apply", time: "2026-11-27T10:00:00Z", fieldsV1: { "f:spec": { "f:replicas": {} } } },
        { manager: "kubectl-edit", operation: "Update", time: "2026-11-27T11:00:00Z", fieldsV1: ours },
        { manager: "horizontal-pod-autoscaler", operation: "Update", subresource: "scale", time: "2026-11-27T12:00:00Z", fieldsV1: { "f:spec": { "f:replicas": {} } } },
      ],
    },
  };

  it("names the managers owning a field, newest first", () => {
    expect(ownersOf(live, ["f:spec", "f:replicas"]).map((e) => e.manager)).toEqual(["horizontal-pod-autoscaler", "driftwatch"]);
    expect(ownersOf(live, ["f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"web"}', "f:image"]).map((e) => e.manager)).toEqual(["kubectl-edit"]);
  });

  it("reads the applied field set of one manager", () => {
    expect(appliedFields(live, "driftwatch")).toEqual({ "f:spec": { "f:replicas": {} } });
    expect(appliedFields(live, "kubectl-edit")).toBeUndefined(); // an Update, not an apply
  });

  it("leaves out the fields another manager owns", () => {
    const stripped = withoutFields(deployment("nginx:1.27"), { "f:spec": { "f:replicas": {} } }) as KubeObject;
    expect(stripped.spec).not.toHaveProperty("replicas");
    expect(stripped.spec).toHaveProperty("template");
  });
});
