// driftwatch check / converge on Kubernetes stacks, through the CLI, against a real kube-apiserver on a real etcd
// (test/support/kube-cluster.ts). Every out-of-band change goes to the API server the way the tool named in it
// would send it (the field manager is what the cluster records as who changed a field).
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import pino from "pino";
import type { KubernetesStackConfig } from "../src/config/types.ts";
import { PlanChangedError } from "../src/core/errors.ts";
import type { StackResult } from "../src/core/types.ts";
import { createKubernetesEngine } from "../src/engines/kubernetes/index.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { freeLoopbackPort } from "../src/toolchain/ports.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { apiRequest, startKubeCluster, type LocalCluster } from "./support/kube-cluster.ts";
import { defaultSandbox, sandboxFor } from "./support/sandbox.ts";
import { testToolchain } from "./support/toolchain.ts";

/** Never a credential-like word, so only the engine's own Secret handling can keep it out of the output. */
const SECRET_VALUE = "k8s-plaintext-7f3a91";
const TAMPERED_VALUE = "k8s-tampered-55c2e0";

/** A namespace, a ConfigMap, a Deployment (no replicas, a quantity written as 1000m), a Service (no protocol), a Secret. */
function webManifests(ns: string, options: { greeting?: string; extra?: boolean; withoutSettings?: boolean; apiSelector?: string } = {}): string {
  const api = options.apiSelector ?? "api";
  const docs = [
    `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`,
    options.withoutSettings ? "" : `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${ns}\ndata:\n  greeting: ${options.greeting ?? "hello"}\n  mode: prod\n`,
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: { app: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports: [{ containerPort: 80 }]
          resources: { limits: { cpu: 1000m, memory: 128Mi } }
`,
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: ${ns}
spec:
  replicas: 2
  selector: { matchLabels: { app: ${api} } }
  template:
    metadata: { labels: { app: ${api} } }
    spec:
      containers: [{ name: api, image: "busybox:1.36" }]
`,
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: ${ns}\nspec:\n  selector: { app: web }\n  ports: [{ port: 80, targetPort: 80 }]\n`,
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: ${ns}\nstringData:\n  password: ${SECRET_VALUE}\n`,
    options.extra ? `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: ${ns}\ndata:\n  added: "yes"\n` : "",
  ];
  return docs.filter((d) => d !== "").join("---\n");
}

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: { type: integer }
                color: { type: string }
`;

const results = (stdout: string) => Object.fromEntries((JSON.parse(stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
const summary = (r: StackResult | undefined) => r!.changes.map((c) => [c.kind, c.action, c.address]);

describe("kubernetes engine on a real API server", () => {
  const root = mkdtempSync(join(tmpdir(), "driftwatch-k8s-"));
  const repo = join(root, "repo");
  const dataDir = join(root, "data");
  const config = join(root, "driftwatch.yaml");
  let cluster: LocalCluster;

  /**
   * A change the way `kubectl edit` sends it: a strategic merge patch (lists merged by key) by field manager
   * kubectl-edit, an Update. Custom objects take JSON merge patches.
   */
  const edit = async (path: string, patch: unknown, manager = "kubectl-edit", contentType = "application/strategic-merge-patch+json") => {
    const res = await apiRequest(cluster, cluster.token, "PATCH", `${path}?fieldManager=${manager}`, { body: JSON.stringify(patch), contentType });
    expect(res.status, res.body).toBe(200);
  };
  const get = async (path: string) => apiRequest(cluster, cluster.token, "GET", path);

  const stack = (name: string, path: string, extra: string[] = [], ref = "main") =>
    [
      `  - name: ${name}`,
      "    engine: kubernetes",
      `    source: { repo: ${repo}, ref: ${ref}, path: ${path} }`,
      "    timeoutSeconds: 300",
      "    kubernetes:",
      "      kubeconfig: ${env:TEST_KUBECONFIG}",
      ...extra,
    ].join("\n");
  const writeConfig = (stacks: string[], file = config) => writeFileSync(file, [`dataDir: ${dataDir}`, "alerts: { log: false }", "stacks:", ...stacks, ""].join("\n"));
  /** The stack's kubeconfig setting pointing at `file` instead of the admin's. */
  const withKubeconfig = (name: string, path: string, file: string) => stack(name, path).replace("${env:TEST_KUBECONFIG}", file);
  /** A copy of the admin kubeconfig, changed by `change`, written as `<root>/kubeconfigs/<name>`. */
  const kubeconfigVariant = (name: string, change: (k: { clusters: { cluster: { server: string } }[]; users: { user: { token: string } }[] }) => void) => {
    const copy = parse(readFileSync(cluster.kubeconfig, "utf8")) as Parameters<typeof change>[0];
    change(copy);
    mkdirSync(join(root, "kubeconfigs"), { recursive: true });
    writeFileSync(join(root, "kubeconfigs", name), stringify(copy));
    return join(root, "kubeconfigs", name);
  };
  let env: NodeJS.ProcessEnv;
  const check = async (...names: string[]) => {
    const run = await driftwatch(["--config", config, "check", "--json", ...names], env);
    return { ...run, byStack: results(run.stdout) };
  };

  beforeAll(async () => {
    // A user who may read everything and change nothing (a dry run needs the verb of the real request: patch).
    cluster = await startKubeCluster({ users: [{ name: "reader", rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "list", "watch"] }] }] });
    env = { TEST_KUBECONFIG: cluster.kubeconfig };
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    const names = ["insync", "edited", "deleted", "pending", "pruned", "secret", "fresh", "moved", "replaced"];
    cpSync(join(repoRoot, "stacks", "demo-k8s"), join(repo, "stacks", "demo-k8s"), { recursive: true });
    commitFiles(
      repo,
      {
        ...Object.fromEntries(names.map((n) => [`clusters/${n}/all.yaml`, webManifests(`dw-${n}`)])),
        "clusters/crd/crd.yaml": CRD,
        "clusters/crd/widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: blue\n  namespace: default\nspec:\n  size: 3\n  color: blue\n",
        "clusters/broken/good.yaml": webManifests("dw-broken"),
        "clusters/broken/nested/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  key: [never closed\n",
        "clusters/unknown/gadget.yaml": "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n",
      },
      "manifests",
    );
    git(repo, "checkout", "-q", "-b", "next");
    commitFiles(
      repo,
      {
        "clusters/pending/all.yaml": webManifests("dw-pending", { greeting: "hi there", extra: true }),
        "clusters/pruned/all.yaml": webManifests("dw-pruned", { withoutSettings: true }),
        "clusters/replaced/all.yaml": webManifests("dw-replaced", { apiSelector: "api-v2" }),
      },
      "a new ConfigMap, a changed greeting; settings leaves Git; a Deployment's immutable selector changes",
    );
    git(repo, "checkout", "-q", "main");
    writeConfig([
      ...["insync", "edited", "deleted", "secret", "fresh", "crd"].map((n) => stack(n, `clusters/${n}`)),
      stack("demo", "stacks/demo-k8s/overlays/local", ["      namespace: demo"]),
      stack("pending", "clusters/pending"),
      stack("pruned", "clusters/pruned"),
      stack("replaced", "clusters/replaced"),
    ]);
    for (const name of ["insync", "edited", "deleted", "pending", "pruned", "secret", "crd", "demo", "replaced"]) {
      const run = await driftwatch(["--config", config, "converge", name, "--json"], env);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(results(run.stdout)[name]!.verdict, run.stdout).toBe("in-sync");
    }
  }, 600_000);
  afterAll(async () => {
    await cluster?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("is in sync after a converge, through defaulting, normalised quantities, autoscalers and controllers' labels", async () => {
    // What an autoscaler does to a Deployment without replicas, and to one whose replicas Git sets.
    await edit("/apis/apps/v1/namespaces/dw-insync/deployments/web/scale", { spec: { replicas: 3 } }, "horizontal-pod-autoscaler");
    await edit("/apis/apps/v1/namespaces/dw-insync/deployments/api/scale", { spec: { replicas: 5 } }, "horizontal-pod-autoscaler");
    // A label a controller adds.
    await edit("/api/v1/namespaces/dw-insync/services/web", { metadata: { labels: { "endpoints.example.com/managed": "true" } } }, "endpoint-controller");
    const { code, byStack, stdout } = await check("insync", "crd");
    expect(code, stdout).toBe(0);
    expect(byStack.insync).toMatchObject({ verdict: "in-sync", changes: [] });
    expect(byStack.crd).toMatchObject({ verdict: "in-sync", changes: [] });
    // Without trusting the autoscaler, the replicas it owns where Git sets them are drift (and named as its doing);
    // where Git sets none, they are never ours to judge.
    const untrusting = join(root, "untrusting.yaml");
    writeConfig([stack("insync", "clusters/insync", ["      trustedManagers: []"])], untrusting);
    const run = await driftwatch(["--config", untrusting, "check", "--json", "insync"], env);
    const drift = results(run.stdout).insync!;
    expect(summary(drift), run.stdout).toEqual([["drift", "update", "Deployment.apps/dw-insync/api"]]);
    expect(drift.changes[0]!.properties).toEqual([{ path: "spec.replicas", desired: 2, actual: 5, changedBy: expect.objectContaining({ manager: "horizontal-pod-autoscaler" }) }]);
    // The members carry kubectl's ApplySet label, and the parent Secret lists their kinds.
    const service = JSON.parse((await get("/api/v1/namespaces/dw-insync/services/web")).body) as { metadata: { labels: Record<string, string> } };
    const setId = service.metadata.labels["applyset.kubernetes.io/part-of"];
    expect(setId).toMatch(/^applyset-.+-v1$/);
    const parent = JSON.parse((await get("/api/v1/namespaces/default/secrets/driftwatch-insync")).body) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    expect(parent.metadata.labels["applyset.kubernetes.io/id"]).toBe(setId);
    expect(parent.metadata.annotations["applyset.kubernetes.io/contains-group-kinds"]).toBe("ConfigMap,Deployment.apps,Namespace,Secret,Service");
  }, 300_000);

  it("reports a kubectl edit of an image and of a ConfigMap value as drift, naming the field manager", async () => {
    await edit("/apis/apps/v1/namespaces/dw-edited/deployments/web", { spec: { template: { spec: { containers: [{ name: "web", image: "nginx:1.28-edited" }] } } } });
    await edit("/api/v1/namespaces/dw-edited/configmaps/settings", { data: { greeting: "edited by hand" } });
    const { code, byStack } = await check("edited");
    expect(code).toBe(2);
    const r = byStack.edited!;
    expect(r.verdict).toBe("drifted");
    expect(summary(r)).toEqual(
      expect.arrayContaining([
        ["drift", "update", "ConfigMap/dw-edited/settings"],
        ["drift", "update", "Deployment.apps/dw-edited/web"],
      ]),
    );
    expect(r.changes).toHaveLength(2);
    const image = r.changes.find((c) => c.type === "Deployment.apps")!.properties;
    expect(image).toEqual([{ path: "spec.template.spec.containers[0].image", desired: "nginx:1.27", actual: "nginx:1.28-edited", changedBy: expect.objectContaining({ manager: "kubectl-edit", operation: "Update" }) }]);
    const value = r.changes.find((c) => c.type === "ConfigMap")!.properties;
    expect(value).toEqual([{ path: "data.greeting", desired: "hello", actual: "edited by hand", changedBy: expect.objectContaining({ manager: "kubectl-edit" }) }]);
    const table = await driftwatch(["--config", config, "check", "edited"], env);
    expect(table.stdout).toContain("spec.template.spec.containers[0].image: \"nginx:1.27\" -> \"nginx:1.28-edited\"   (changed by kubectl-edit (Update, ");
    // kubectl, where the machine has it, as an independent oracle: its server-side diff of the same manifests
    // changes exactly these two values back.
    const kubectl = spawnSync("kubectl", ["diff", "--server-side", "--force-conflicts", "--field-manager=driftwatch", "-f", join(repo, "clusters", "edited", "all.yaml")], {
      env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
      encoding: "utf8",
    });
    if (kubectl.error === undefined) {
      expect(kubectl.status, kubectl.stderr).toBe(1); // 1: differences found
      // Values only (managedFields and generation change too in its diff): [-+], the key, the value.
      const values = kubectl.stdout.split("\n").flatMap((line) => /^([-+])[\s-]*(image|greeting): (.+)$/.exec(line)?.slice(1, 4).join(" ") ?? []);
      expect(values.sort()).toEqual(["+ greeting hello", "+ image nginx:1.27", "- greeting edited by hand", "- image nginx:1.28-edited"]);
    }
  }, 300_000);

  it("reports an object deleted out of band as drift (delete)", async () => {
    const res = await apiRequest(cluster, cluster.token, "DELETE", "/api/v1/namespaces/dw-deleted/configmaps/settings");
    expect(res.status).toBe(200);
    const { byStack } = await check("deleted");
    expect(summary(byStack.deleted)).toEqual([["drift", "delete", "ConfigMap/dw-deleted/settings"]]);
  }, 300_000);

  it("reports a commit that adds an object and changes one as pending only", async () => {
    writeConfig([stack("pending", "clusters/pending", [], "next")], join(root, "next.yaml"));
    const run = await driftwatch(["--config", join(root, "next.yaml"), "check", "--json", "pending"], env);
    const r = results(run.stdout).pending!;
    expect(r.verdict, run.stdout).toBe("pending");
    expect(summary(r)).toEqual([
      ["pending", "update", "ConfigMap/dw-pending/settings"],
      ["pending", "create", "ConfigMap/dw-pending/extra"],
    ]);
    expect(r.changes[0]!.properties).toEqual([{ path: "data.greeting", desired: "hi there", actual: "hello" }]);
  }, 300_000);

  it("plans a change of an immutable field as a replace, and converges it by deleting and creating the object", async () => {
    const next = join(root, "replaced.yaml");
    writeConfig([stack("replaced", "clusters/replaced", [], "next")], next);
    const run = await driftwatch(["--config", next, "check", "--json", "replaced"], env);
    const r = results(run.stdout).replaced!;
    expect(summary(r), run.stdout).toEqual([["pending", "replace", "Deployment.apps/dw-replaced/api"]]);
    expect(r.changes[0]!.replacePaths).toEqual(["spec.selector"]);
    const before = JSON.parse((await get("/apis/apps/v1/namespaces/dw-replaced/deployments/api")).body) as { metadata: { uid: string } };
    const converged = await driftwatch(["--config", next, "converge", "--json", "replaced"], env);
    expect(results(converged.stdout).replaced!.verdict, converged.stdout).toBe("in-sync");
    expect(summary({ changes: results(converged.stdout).replaced!.applied! } as StackResult)).toEqual([["pending", "replace", "Deployment.apps/dw-replaced/api"]]);
    const after = JSON.parse((await get("/apis/apps/v1/namespaces/dw-replaced/deployments/api")).body) as { metadata: { uid: string }; spec: { selector: unknown } };
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after.spec.selector).toEqual({ matchLabels: { app: "api-v2" } });
  }, 300_000);

  it("plans an object removed from Git as a pending delete: refused by the default guards, applied when deletes are allowed", async () => {
    const guarded = join(root, "pruned.yaml");
    writeConfig([stack("pruned", "clusters/pruned", [], "next").replace("    timeoutSeconds: 300", "    timeoutSeconds: 300\n    remediation: { mode: auto, on: pending }")], guarded);
    const refused = await driftwatch(["--config", guarded, "check", "--json", "pruned"], env);
    const r = results(refused.stdout).pruned!;
    expect(summary(r)).toEqual([["pending", "delete", "ConfigMap/dw-pruned/settings"]]);
    expect(r.remediation, refused.stdout).toMatchObject({ decision: "refused" });
    expect(r.remediation!.reason).toMatch(/delete/);
    expect((await get("/api/v1/namespaces/dw-pruned/configmaps/settings")).status).toBe(200);

    writeFileSync(guarded, readFileSync(guarded, "utf8").replace("{ mode: auto, on: pending }", "{ mode: auto, on: pending, allow: { deletes: true } }"));
    const applied = await driftwatch(["--config", guarded, "check", "--json", "pruned"], env);
    const after = results(applied.stdout).pruned!;
    expect(after.remediation, applied.stdout).toMatchObject({ decision: "applied" });
    expect(after.verdict).toBe("in-sync");
    expect((await get("/api/v1/namespaces/dw-pruned/configmaps/settings")).status).toBe(404);
  }, 300_000);

  it("shows a Secret changed in the cluster as drift, with its value nowhere", async () => {
    await edit("/api/v1/namespaces/dw-secret/secrets/creds", { data: { password: Buffer.from(TAMPERED_VALUE).toString("base64") } });
    const json = await check("secret");
    const table = await driftwatch(["--config", config, "check", "secret"], env);
    const r = json.byStack.secret!;
    expect(summary(r)).toEqual([["drift", "update", "Secret/dw-secret/creds"]]);
    expect(r.changes[0]!.properties).toEqual([{ path: "data.password", desired: "[secret]", actual: "[secret]", changedBy: expect.objectContaining({ manager: "kubectl-edit" }) }]);
    const forms = [SECRET_VALUE, TAMPERED_VALUE, Buffer.from(SECRET_VALUE).toString("base64"), Buffer.from(TAMPERED_VALUE).toString("base64")];
    const database = readdirSync(dataDir).filter((f) => f.startsWith("driftwatch.db")).map((f) => readFileSync(join(dataDir, f)).toString("latin1")).join("");
    for (const text of [json.stdout, json.stderr, table.stdout, table.stderr, database]) for (const form of forms) expect(text).not.toContain(form);
  }, 300_000);

  it("judges a stack never applied against Git, and says so", async () => {
    const { byStack } = await check("fresh");
    const r = byStack.fresh!;
    expect(r.notes?.[0]).toMatch(/no apply by Driftwatch is recorded for stack fresh yet: drift is judged against Git/);
    expect(r.verdict).toBe("drifted");
    expect(r.changes.every((c) => c.kind === "drift" && c.action === "delete")).toBe(true);
    expect(r.changes).toHaveLength(6);
  }, 300_000);

  it("makes each broken cluster, credential or manifest that stack's error, names it, and goes on with the others", async () => {
    const closedPort = await freeLoopbackPort();
    const unreachable = kubeconfigVariant("unreachable", (k) => (k.clusters[0]!.cluster.server = `https://127.0.0.1:${closedPort}`));
    const expired = kubeconfigVariant("expired", (k) => (k.users[0]!.user.token = "expired-or-revoked-token"));
    // A kubeconfig broken right after its token: the parser's error quotes the lines around it.
    const kubeconfigs = join(root, "kubeconfigs");
    writeFileSync(join(kubeconfigs, "garbage"), `users:\n- name: a\n  user:\n    token: ${cluster.token}\n  bad: [\n`);
    const errors = join(root, "errors.yaml");
    writeConfig(
      [
        stack("insync", "clusters/insync"),
        withKubeconfig("unreachable", "clusters/insync", unreachable),
        withKubeconfig("expired", "clusters/insync", expired),
        withKubeconfig("garbage", "clusters/insync", join(kubeconfigs, "garbage")),
        withKubeconfig("forbidden", "clusters/insync", cluster.writeKubeconfig("reader")),
        stack("broken", "clusters/broken"),
        stack("unknown", "clusters/unknown"),
      ],
      errors,
    );
    const run = await driftwatch(["--config", errors, "check", "--json"], env);
    const r = results(run.stdout);
    expect(r.insync!.verdict, run.stdout).toBe("in-sync");
    const failure = (name: string) => [r[name]!.verdict, r[name]!.error?.kind];
    expect(failure("unreachable")).toEqual(["error", "ClusterUnreachableError"]);
    expect(r.unreachable!.error!.message).toContain(`the API server https://127.0.0.1:${closedPort} did not answer`);
    expect(failure("expired")).toEqual(["error", "ClusterUnauthorizedError"]);
    expect(r.expired!.error!.message).toMatch(/credentials were refused/);
    expect(failure("garbage")).toEqual(["error", "KubeconfigError"]);
    expect(r.garbage!.error!.message).toContain(`kubernetes.kubeconfig '${join(kubeconfigs, "garbage")}'`);
    expect(run.stdout + run.stderr).not.toContain(cluster.token.slice(0, 12)); // the parser quotes a cut line
    expect(failure("forbidden")).toEqual(["error", "ClusterForbiddenError"]);
    expect(r.forbidden!.error!.message).toMatch(/forbidden: User "reader" cannot patch resource/);
    expect(failure("broken")).toEqual(["error", "ManifestError"]);
    expect(r.broken!.error!.message).toMatch(/^nested\/bad\.yaml line \d+, column \d+: /);
    expect(failure("unknown")).toEqual(["error", "UnknownKindError"]);
    expect(r.unknown!.error!.message).toContain("gadget.yaml line 1: the API server");
    expect(r.unknown!.error!.message).toContain("does not serve kind Gadget in example.com/v1");
    // A converge of a broken stack applies nothing: the good objects next to the bad file are not there.
    const converge = await driftwatch(["--config", errors, "converge", "broken", "--json"], env);
    expect(converge.code).not.toBe(0);
    expect((await get("/api/v1/namespaces/dw-broken")).status).toBe(404);
    const forbidden = await driftwatch(["--config", errors, "converge", "forbidden", "--json"], env);
    expect(results(forbidden.stdout).forbidden!.error?.kind).toBe("ClusterForbiddenError");
  }, 300_000);

  it("renders the example's Kustomize overlay and keeps it in sync", async () => {
    const settings = JSON.parse((await get("/api/v1/namespaces/demo/configmaps/web-settings")).body) as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
    expect(settings.data["log-level"]).toBe("debug");
    expect(settings.metadata.labels.environment).toBe("local");
    const { byStack } = await check("demo");
    expect(byStack.demo).toMatchObject({ verdict: "in-sync", changes: [] });
  }, 300_000);

  it("refuses to apply an object that moved after the plan was judged, and applies nothing after it", async () => {
    const { manifest } = testToolchain();
    const engine = createKubernetesEngine({ toolchain: manifest, logger: pino({ level: "silent" }), cacheDir: join(root, "cache"), dataDir: join(root, "engine-data") });
    let recorded: string | undefined;
    const writes: string[] = [];
    const stackConfig = {
      name: "moved",
      engine: "kubernetes",
      source: { repo, ref: "main", path: "clusters/moved" },
      env: {},
      timeoutSeconds: 120,
      kubernetes: { kubeconfig: cluster.kubeconfig, namespace: "default", render: "auto", fieldManager: "driftwatch", trustedManagers: [], prune: true },
      sandbox: defaultSandbox(),
    } as unknown as KubernetesStackConfig;
    const sandbox = sandboxFor(stackConfig, join(repo, "clusters", "moved"), join(root, "direct-data"));
    const ctx = () => ({
      stack: stackConfig,
      sandbox,
      dir: join(repo, "clusters", "moved"),
      logger: pino({ level: "silent" }),
      signal: AbortSignal.timeout(120_000),
      env: {},
      commit: git(repo, "rev-parse", "HEAD"),
      state: {
        read: async () => (recorded ? { value: recorded, updatedAt: "" } : undefined),
        write: async (value: string) => void writes.push((recorded = value)),
      },
    });
    await engine.converge(ctx());
    expect(writes).toHaveLength(1);
    await edit("/api/v1/namespaces/dw-moved/configmaps/settings", { data: { greeting: "first edit" } });
    await edit("/apis/apps/v1/namespaces/dw-moved/deployments/web", { spec: { template: { spec: { containers: [{ name: "web", image: "nginx:edited" }] } } } });
    const outcome = await engine
      .remediate(ctx(), async (plan) => {
        expect(plan.changes.map((c) => c.address)).toEqual(["ConfigMap/dw-moved/settings", "Deployment.apps/dw-moved/web"]);
        // Someone changes the ConfigMap again between the judgement and the apply.
        await edit("/api/v1/namespaces/dw-moved/configmaps/settings", { data: { greeting: "second edit" } });
        return true;
      })
      .catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(PlanChangedError);
    expect((outcome as Error).message).toMatch(/ConfigMap\/dw-moved\/settings changed in the cluster since the plan was judged .* it and the 1 step\(s\) after it were not applied/);
    const configMap = JSON.parse((await get("/api/v1/namespaces/dw-moved/configmaps/settings")).body) as { data: Record<string, string> };
    expect(configMap.data.greeting).toBe("second edit");
    const deployment = JSON.parse((await get("/apis/apps/v1/namespaces/dw-moved/deployments/web")).body) as { spec: { template: { spec: { containers: { image: string }[] } } } };
    expect(deployment.spec.template.spec.containers[0]!.image).toBe("nginx:edited");
    expect(writes).toHaveLength(1); // the last apply on record is still the first converge
  }, 300_000);

  it("stops waiting for an API server that accepts connections and never answers, at the stack's timeout", async () => {
    // A TLS port that completes nothing: the handshake never finishes.
    const silent = createServer((socket) => socket.on("error", () => {}));
    const port = await new Promise<number>((resolvePort) => silent.listen(0, "127.0.0.1", () => resolvePort((silent.address() as AddressInfo).port)));
    try {
      const kubeconfig = kubeconfigVariant("silent", (k) => (k.clusters[0]!.cluster.server = `https://127.0.0.1:${port}`));
      const file = join(root, "silent.yaml");
      writeConfig([withKubeconfig("silent", "clusters/insync", kubeconfig).replace("timeoutSeconds: 300", "timeoutSeconds: 2"), stack("insync", "clusters/insync")], file);
      const run = await driftwatch(["--config", file, "check", "--json"], env);
      const r = results(run.stdout);
      expect(r.silent!.error, run.stdout).toMatchObject({ kind: "TimeoutError" });
      expect(r.silent!.error!.message).toMatch(/did not finish within 2s/);
      expect(r.insync!.verdict).toBe("in-sync");
    } finally {
      silent.close();
    }
  }, 300_000);

  it("reports drift of a custom object", async () => {
    await edit("/apis/example.com/v1/namespaces/default/widgets/blue", { spec: { color: "red" } }, "kubectl-edit", "application/merge-patch+json");
    const { byStack } = await check("crd");
    expect(summary(byStack.crd)).toEqual([["drift", "update", "Widget.example.com/default/blue"]]);
    expect(byStack.crd!.changes[0]!.properties).toEqual([{ path: "spec.color", desired: "blue", actual: "red", changedBy: expect.objectContaining({ manager: "kubectl-edit" }) }]);
  }, 300_000);
});
