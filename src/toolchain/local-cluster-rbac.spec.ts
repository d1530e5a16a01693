import { describe, expect, it } from "vitest";
import { LocalClusterError } from "./local-cluster-access.ts";
import { labelSelector, requestAllowedBy } from "./local-cluster-rbac.ts";

describe("labelSelector", () => {
  it("writes an aggregation rule's selector the way the list API takes it", () => {
    expect(labelSelector({ matchLabels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } })).toBe("rbac.authorization.k8s.io/aggregate-to-view=true");
    expect(
      labelSelector({
        matchLabels: { a: "b" },
        matchExpressions: [
          { key: "c", operator: "In", values: ["d", "e"] },
          { key: "f", operator: "NotIn", values: ["g"] },
          { key: "h", operator: "Exists" },
          { key: "i", operator: "DoesNotExist" },
        ],
      }),
    ).toBe("a=b,c in (d,e),f notin (g),h,!i");
    expect(() => labelSelector({ matchExpressions: [{ key: "x", operator: "Near" }] })).toThrow(LocalClusterError);
  });
});

describe("requestAllowedBy", () => {
  it("asks about a concrete request the rule grants", () => {
    expect(requestAllowedBy({ apiGroups: ["apps"], resources: ["deployments", "replicasets"], verbs: ["list", "get"] })).toEqual({
      resourceAttributes: { verb: "list", group: "apps", resource: "deployments" },
    });
    expect(requestAllowedBy({ apiGroups: ["*"], resources: ["*"], verbs: ["*"] })).toEqual({ resourceAttributes: { verb: "get", group: "", resource: "configmaps" } });
    expect(requestAllowedBy({ apiGroups: [""], resources: ["configmaps"], resourceNames: ["settings"], verbs: ["get"] })).toEqual({
      resourceAttributes: { verb: "get", group: "", resource: "configmaps", name: "settings" },
    });
    expect(requestAllowedBy({ nonResourceURLs: ["/healthz/*"], verbs: ["get"] })).toEqual({ nonResourceAttributes: { path: "/healthz/", verb: "get" } });
  });
});
