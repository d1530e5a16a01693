// What the local cluster's users may do: each user's rules (its clusterRole's, aggregated as
// kube-controller-manager's aggregation controller would, plus its own) go into a ClusterRole of its own that is
// bound to it, by server-side apply so a later start of a kept dir updates them.
import { setTimeout as delay } from "node:timers/promises";
import { z } from "zod";
import { apiRequest, type ApiEndpoint, LocalClusterError, type PolicyRule, type TokenUser } from "./local-cluster-access.ts";

const RBAC = "/apis/rbac.authorization.k8s.io/v1";
const FIELD_MANAGER = "driftwatch-local-cluster";

const ruleSchema = z.object({
  verbs: z.array(z.string()),
  apiGroups: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  resourceNames: z.array(z.string()).optional(),
  nonResourceURLs: z.array(z.string()).optional(),
});
const selectorSchema = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() })).optional(),
});
const clusterRoleSchema = z.object({
  metadata: z.object({ name: z.string() }),
  rules: z.array(ruleSchema).nullish(),
  aggregationRule: z.object({ clusterRoleSelectors: z.array(selectorSchema).nullish() }).nullish(),
});
type ClusterRole = z.infer<typeof clusterRoleSchema>;
type Selector = z.infer<typeof selectorSchema>;

/** A label selector in the query-string syntax (`a=b,c in (d,e),!f`). */
export function labelSelector(selector: Selector): string {
  const labels = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  const expressions = (selector.matchExpressions ?? []).map(({ key, operator, values = [] }) => {
    if (operator === "In") return `${key} in (${values.join(",")})`;
    if (operator === "NotIn") return `${key} notin (${values.join(",")})`;
    if (operator === "Exists") return key;
    if (operator === "DoesNotExist") return `!${key}`;
    throw new LocalClusterError(`unknown label selector operator ${operator}`);
  });
  return [...labels, ...expressions].join(",");
}

/** A request the rule allows, as SubjectAccessReview attributes (wildcards made concrete). */
export function requestAllowedBy(rule: PolicyRule): Record<string, unknown> {
  const concrete = (value: string | undefined, instead: string) => (value === undefined || value === "*" ? instead : value);
  const verb = concrete(rule.verbs[0], "get");
  const url = rule.nonResourceURLs?.[0];
  if (url) return { nonResourceAttributes: { path: url.replace(/\*$/, ""), verb } };
  return {
    resourceAttributes: {
      verb,
      group: concrete(rule.apiGroups?.[0], ""),
      resource: concrete(rule.resources?.[0], "configmaps"),
      ...(rule.resourceNames?.[0] ? { name: rule.resourceNames[0] } : {}),
    },
  };
}

class AdminClient {
  readonly #endpoint: ApiEndpoint;
  readonly #token: string;
  constructor(endpoint: ApiEndpoint, token: string) {
    this.#endpoint = endpoint;
    this.#token = token;
  }

  async call(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<unknown> {
    const answer = await apiRequest(this.#endpoint, this.#token, method, path, body === undefined ? {} : { body: JSON.stringify(body), contentType });
    if (answer.status !== 200 && answer.status !== 201) throw new LocalClusterError(`${method} ${path}: HTTP ${answer.status} ${answer.body}`);
    return JSON.parse(answer.body);
  }

  apply(resource: string, object: { metadata: { name: string } } & Record<string, unknown>): Promise<unknown> {
    const path = `${RBAC}/${resource}/${encodeURIComponent(object.metadata.name)}?fieldManager=${FIELD_MANAGER}&force=true`;
    return this.call("PATCH", path, object, "application/apply-patch+yaml");
  }
}

/** A role's rules; an aggregated role's are those of the roles its selectors pick, themselves aggregated. */
async function effectiveRules(client: AdminClient, role: ClusterRole, seen: Set<string>): Promise<PolicyRule[]> {
  seen.add(role.metadata.name);
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!selectors) return role.rules ?? [];
  const rules: PolicyRule[] = [];
  for (const selector of selectors) {
    const list = z.object({ items: z.array(clusterRoleSchema) }).parse(await client.call("GET", `${RBAC}/clusterroles?labelSelector=${encodeURIComponent(labelSelector(selector))}`));
    for (const source of list.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
      if (!seen.has(source.metadata.name)) rules.push(...(await effectiveRules(client, source, seen)));
    }
  }
  return rules;
}

function distinct(rules: readonly PolicyRule[]): PolicyRule[] {
  const byText = new Map(rules.map((rule) => [JSON.stringify(rule), rule]));
  return [...byText.values()];
}

/**
 * Grants each user its rules, then waits until the authorizer (which learns of bindings through a watch) allows
 * the user what the first rule grants, or `deadline` passes.
 */
export async function grantAccess(endpoint: ApiEndpoint, adminToken: string, users: readonly TokenUser[], deadline: number): Promise<void> {
  const client = new AdminClient(endpoint, adminToken);
  for (const user of users) {
    if (!user.clusterRole && !user.rules?.length) continue;
    const fromRole = user.clusterRole
      ? await effectiveRules(client, clusterRoleSchema.parse(await client.call("GET", `${RBAC}/clusterroles/${encodeURIComponent(user.clusterRole)}`)), new Set())
      : [];
    const rules = distinct([...fromRole, ...(user.rules ?? [])]);
    if (rules.length === 0) continue;
    const role = `driftwatch:${user.name}`;
    await client.apply("clusterroles", { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: role }, rules });
    await client.apply("clusterrolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: role },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user.name }],
    });
    const review = { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: { user: user.name, ...requestAllowedBy(rules[0]!) } };
    const allowed = async () => z.object({ status: z.object({ allowed: z.boolean() }) }).parse(await client.call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review)).status.allowed;
    while (!(await allowed())) {
      if (Date.now() > deadline) throw new LocalClusterError(`the API server did not apply ${role} to ${user.name} in time`);
      await delay(100);
    }
  }
}
