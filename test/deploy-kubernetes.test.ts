// deploy/kubernetes: driftwatch serve as three replicas against an external PostgreSQL. The manifests are rendered
// with the provisioned kustomize (as `kubectl apply -k` renders them), held to what they promise, their
// driftwatch.yaml loaded by Driftwatch's own loader, and every object dry-run on a real kube-apiserver
// (test/support/kube-cluster.ts): the server's schemas, strict field validation and Pod Security admission
// judge them, and a broken copy of each kind of mistake is refused to show the dry run really judges.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { parseConfig } from "../src/config/load.ts";
import type { DriftwatchConfig } from "../src/config/types.ts";
import { ConfigError } from "../src/core/errors.ts";
import { allowedHostNames, hostAllowed } from "../src/server/host-check.ts";
import { SERVICE_ENV, SERVICE_NODE_FLAGS } from "../src/service/runtime.ts";
import { which } from "../src/toolchain/exec.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { apiRequest, type LocalCluster, startKubeCluster } from "./support/kube-cluster.ts";
import { tempDir } from "./support/tempdir.ts";
import { engineTimeout } from "./support/timeouts.ts";
import { testToolchain } from "./support/toolchain.ts";

const manifests = join(repoRoot, "deploy", "kubernetes");
const migrateManifests = join(manifests, "db-migrate");
const DATABASE_URL = "postgres://u:p@db:5432/driftwatch";
/** kubectl is only the user's view here (the API requests judge the manifests without it); listed as skipped without it. */
const kubectl = await which("kubectl");

type Labels = Record<string, string>;
interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels };
  [field: string]: unknown;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; [source: string]: unknown };
}
interface Probe {
  httpGet?: { path: string; port: number | string };
  [field: string]: unknown;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: unknown[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  topologySpreadConstraints?: { topologyKey: string; whenUnsatisfiable: string; labelSelector: { matchLabels: Labels } }[];
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string }; emptyDir?: { sizeLimit?: string } }[];
}
interface PodTemplate {
  metadata: { labels: Labels };
  spec: PodSpec;
}
interface Deployment extends KubeObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Labels };
    strategy: { type: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
    template: PodTemplate;
  };
}
interface Job extends KubeObject {
  spec: { template: PodTemplate };
}
interface Service extends KubeObject {
  spec: { type?: string; selector: Labels; ports: { name?: string; port: number; targetPort: number | string }[] };
}
interface PodDisruptionBudget extends KubeObject {
  spec: { selector: { matchLabels: Labels }; maxUnavailable?: number; minAvailable?: number };
}
interface ConfigMap extends KubeObject {
  data: Record<string, string>;
}

/** `kustomize build <dir>` with the provisioned kustomize, as objects. */
function kustomizeBuild(dir: string): KubeObject[] {
  const { kustomize } = testToolchain().manifest.kubernetes;
  const built = spawnSync(kustomize.bin, ["build", dir], { encoding: "utf8", timeout: 120_000 });
  if (built.status !== 0) throw new Error(`kustomize build ${dir} failed (${built.status ?? built.error?.message}): ${built.stderr}`);
  return parseAllDocuments(built.stdout).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`kustomize build ${dir} printed YAML that does not parse: ${doc.errors[0]!.message}`);
    return doc.toJS() as KubeObject;
  });
}

function only<T extends KubeObject>(objects: readonly KubeObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  expect(found.map((o) => o.metadata.name), `exactly one ${kind}`).toHaveLength(1);
  return found[0] as T;
}

/** Whether a label selector (matchLabels) selects an object with these labels. */
function selects(selector: Labels, labels: Labels | undefined): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** The container port a probe's or a Service's port (a number or a port name) reaches. */
function containerPort(container: Container, port: number | string | undefined): number | undefined {
  if (typeof port === "number") return container.ports?.some((p) => p.containerPort === port) ? port : undefined;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** A memory quantity in bytes (the suffixes these manifests use). */
function bytes(quantity: string | undefined): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity ?? "");
  if (!match) throw new Error(`not a memory quantity this test reads: ${quantity}`);
  return Number(match[1]) * { "": 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match[2] ?? ""]!;
}

/** What the image promises (Dockerfile): the user's uid and home, the port, the configuration file, the script. */
function imageFacts() {
  const text = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
  const fact = (pattern: RegExp) => {
    const match = pattern.exec(text);
    expect(match, `the Dockerfile has ${pattern}`).not.toBeNull();
    return match![1]!;
  };
  return {
    uid: Number(fact(/useradd --system --uid (\d+) /)),
    home: fact(/--home-dir (\S+) /),
    port: Number(fact(/^EXPOSE (\d+)$/m)),
    configFile: fact(/^CMD \["--config", "([^"]+)"/m),
    script: fact(/ln -s (\S+) \/usr\/local\/bin\/driftwatch/),
  };
}

/** An environment variable name that says it holds a credential. */
const CREDENTIAL_NAME = /TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|PRIVATE|(^|_)KEY(_|$)|DATABASE_URL/i;

/** The text with a commented-out block (`# key:` and the `#   ` lines under it) uncommented. */
function uncomment(text: string, key: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(`# ${key}:`);
  expect(start, `a commented-out ${key} block`).toBeGreaterThanOrEqual(0);
  for (let i = start; i < lines.length && (i === start || lines[i]!.startsWith("#   ")); i++) lines[i] = lines[i]!.slice(2);
  return lines.join("\n");
}

describe("deploy/kubernetes", () => {
  let objects: KubeObject[];
  let migrateObjects: KubeObject[];
  let deployment: Deployment;
  let pod: PodSpec;
  let container: Container;
  let configFile: string;
  let configText: string;
  let config: DriftwatchConfig;

  beforeAll(() => {
    objects = kustomizeBuild(manifests);
    migrateObjects = kustomizeBuild(migrateManifests);
    deployment = only<Deployment>(objects, "Deployment");
    pod = deployment.spec.template.spec;
    expect(pod.containers).toHaveLength(1);
    container = pod.containers[0]!;
    // The configuration as the replicas read it: the ConfigMap's driftwatch.yaml, at the path the container names.
    const configArg = container.args?.indexOf("--config") ?? -1;
    configFile = container.args?.[configArg + 1] ?? "";
    expect(configArg, "serve is given --config").toBeGreaterThanOrEqual(0);
    const configMap = only<ConfigMap>(objects, "ConfigMap");
    configText = configMap.data[posix.basename(configFile)]!;
    expect(configText, `the ConfigMap holds ${posix.basename(configFile)}`).toBeTypeOf("string");
    config = parseConfig(configText, configFile, { env: { DATABASE_URL } });
  });

  it("renders one namespace's serve Deployment, Service, budget, account and configuration, and no credential", () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(["ConfigMap", "Deployment", "Namespace", "PodDisruptionBudget", "Service", "ServiceAccount"]);
    const namespace = only(objects, "Namespace").metadata;
    for (const object of objects.filter((o) => o.kind !== "Namespace")) expect(object.metadata.namespace, object.kind).toBe(namespace.name);
    // The pods meet the restricted Pod Security Standard, and the namespace enforces it (the dry run below checks).
    expect(namespace.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    // The example Secret is documentation: not rendered, holding placeholders, naming every key the pods read.
    const example = readFileSync(join(manifests, "secret.example.yaml"), "utf8");
    const kustomization = parseAllDocuments(readFileSync(join(manifests, "kustomization.yaml"), "utf8"))[0]!.toJS() as { resources: string[] };
    expect(kustomization.resources).not.toContain("secret.example.yaml");
    const exampleSecret = parseAllDocuments(example)[0]!.toJS() as KubeObject & { stringData: Record<string, string> };
    expect(exampleSecret.kind).toBe("Secret");
    for (const value of Object.values(exampleSecret.stringData)) expect(value).toContain("CHANGE-ME");
    const refs = [...objects, ...migrateObjects]
      .flatMap((o) => (o.kind === "Deployment" || o.kind === "Job" ? (o as Deployment | Job).spec.template.spec.containers : []))
      .flatMap((c) => c.env ?? [])
      .flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []));
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.name).toBe(exampleSecret.metadata.name);
      expect(example, `secret.example.yaml documents ${ref.key}`).toMatch(new RegExp(`^\\s*(# )?${ref.key}: `, "m"));
    }
  });

  it("runs three replicas of serve as the image runs it, with the service's runtime settings", () => {
    const image = imageFacts();
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(selects(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
    // The image's script under node with the V8 flags the memory figures were measured with, serve on the config.
    expect(container.command).toEqual(["node", ...SERVICE_NODE_FLAGS, image.script]);
    expect(container.args).toEqual(["--config", image.configFile, "serve"]);
    for (const [name, value] of Object.entries(SERVICE_ENV)) expect(container.env).toContainEqual({ name, value });
    expect(container.image).toMatch(/^[\w.-]+(\/[\w.-]+)+:\d+\.\d+\.\d+$/); // a version, never :latest
    // The same image migrates the database.
    const job = only<Job>(migrateObjects, "Job");
    expect(job.spec.template.spec.containers.map((c) => c.image)).toEqual([container.image]);
    expect(job.spec.template.spec.containers[0]!.args?.slice(-2)).toEqual(["db", "migrate"]);
  });

  it("probes /readyz and /healthz on the port serve listens on", () => {
    const port = containerPort(container, "http") ?? container.ports?.[0]?.containerPort;
    expect(port).toBe(config.service.http.port);
    expect(port).toBe(imageFacts().port);
    expect(container.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(container.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(container.startupProbe?.httpGet?.path).toBe("/healthz");
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      expect(containerPort(container, probe?.httpGet?.port)).toBe(config.service.http.port);
    }
  });

  it("takes every credential from the Secret, never from a literal", () => {
    const env = container.env ?? [];
    expect(container.envFrom).toBeUndefined();
    // What the configuration reads from the environment: the database URL, the API token, the webhook secret,
    // and the Slack token its commented-out alerts.slack would want (the schema's default name).
    const databaseVariable = /url: \$\{env:(\w+)\}/.exec(configText)?.[1];
    expect(databaseVariable).toBe("DATABASE_URL");
    const withSlack = parseConfig(uncomment(configText, "alerts"), configFile, { env: { DATABASE_URL, SLACK_BOT_TOKEN: "xoxb-test" } });
    const named = [databaseVariable!, config.service.http.apiTokenEnv, config.service.http.webhookSecretEnv, withSlack.alerts.slack!.tokenEnv];
    for (const name of named) expect(env.map((e) => e.name), `${name} is set`).toContain(name);
    for (const variable of env) {
      if (!CREDENTIAL_NAME.test(variable.name) && !named.includes(variable.name)) continue;
      expect(variable.value, `${variable.name} has no literal value`).toBeUndefined();
      expect(variable.valueFrom?.secretKeyRef, `${variable.name} comes from a Secret`).toBeDefined();
    }
    // The database is required (the pod does not start without it); the rest are features the Secret turns on.
    expect(env.find((e) => e.name === "DATABASE_URL")?.valueFrom?.secretKeyRef?.optional).toBeUndefined();
    const jobEnv = only<Job>(migrateObjects, "Job").spec.template.spec.containers[0]!.env ?? [];
    expect(jobEnv.find((e) => e.name === "DATABASE_URL")?.valueFrom?.secretKeyRef).toEqual(env.find((e) => e.name === "DATABASE_URL")?.valueFrom?.secretKeyRef);
  });

  it("sizes memory from the service's measured figures and sets requests and limits", () => {
    const { requests, limits } = container.resources ?? {};
    expect(requests?.cpu).toBeDefined();
    // About 130 MB idle with 1,000 stacks (README, Benchmarks) plus an engine: requested; two engines: the limit.
    expect(bytes(requests?.memory)).toBeGreaterThanOrEqual(256 * 1024 ** 2);
    expect(bytes(limits?.memory)).toBeGreaterThanOrEqual(2 * bytes(requests?.memory));
    expect(config.service.concurrency).toBe(2);
    const jobResources = only<Job>(migrateObjects, "Job").spec.template.spec.containers[0]!.resources;
    expect(jobResources?.requests?.memory && jobResources.limits?.memory).toBeTruthy();
  });

  it("runs as the image's non-root user on a read-only root, writing only to its own volumes", () => {
    const image = imageFacts();
    for (const spec of [pod, only<Job>(migrateObjects, "Job").spec.template.spec]) {
      expect(spec.securityContext).toMatchObject({ runAsUser: image.uid, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const c of spec.containers) {
        expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
      }
    }
    expect(pod.serviceAccountName).toBe(only(objects, "ServiceAccount").metadata.name);
    expect((only(objects, "ServiceAccount") as KubeObject & { automountServiceAccountToken?: boolean }).automountServiceAccountToken).toBe(false);
    const mounts = container.volumeMounts ?? [];
    const volume = (path: string) => pod.volumes?.find((v) => v.name === mounts.find((m) => m.mountPath === path)?.name);
    const writable = mounts.filter((m) => !m.readOnly && volume(m.mountPath)?.emptyDir).map((m) => m.mountPath);
    // HOME, /tmp and the data directory are writable; the data directory is a folder inside its volume (Driftwatch
    // makes it 0700, and cannot chmod the root of an emptyDir, which root owns).
    const home = container.env?.find((e) => e.name === "HOME")?.value;
    expect(home).toBe(image.home);
    expect(writable).toContain(home);
    expect(writable).toContain("/tmp");
    expect(writable.some((dir) => config.dataDir.startsWith(`${dir}/`)), `${config.dataDir} inside a writable volume`).toBe(true);
    // The configuration is the (renamed, hashed) ConfigMap, mounted read-only where --config points.
    const configMount = mounts.find((m) => m.mountPath === posix.dirname(configFile));
    expect(configMount?.readOnly).toBe(true);
    expect(volume(posix.dirname(configFile))?.configMap?.name).toBe(only(objects, "ConfigMap").metadata.name);
  });

  it("stops within the grace period: the kubelet waits longer than the service's stop grace", () => {
    const preStopSleep = Number(container.lifecycle?.preStop?.exec?.command.at(-1) ?? 0);
    const engineKillGraceSeconds = 10; // cancelled engines get SIGINT, then SIGKILL ten seconds later (src/core/process.ts)
    expect(config.service.stopGraceMs).toBe(30_000);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(config.service.stopGraceMs / 1000);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSleep + config.service.stopGraceMs / 1000 + engineKillGraceSeconds);
  });

  it("spreads the replicas over nodes, keeps two through disruptions, and serves any of them on port 80", () => {
    const labels = deployment.spec.template.metadata.labels;
    const byNode = pod.topologySpreadConstraints?.find((c) => c.topologyKey === "kubernetes.io/hostname");
    expect(byNode?.whenUnsatisfiable).toBe("DoNotSchedule");
    expect(selects(byNode!.labelSelector.matchLabels, labels)).toBe(true);

    const budget = only<PodDisruptionBudget>(objects, "PodDisruptionBudget");
    expect(selects(budget.spec.selector.matchLabels, labels)).toBe(true);
    const stillUp = budget.spec.maxUnavailable !== undefined ? deployment.spec.replicas - budget.spec.maxUnavailable : (budget.spec.minAvailable ?? 0);
    expect(stillUp).toBeGreaterThanOrEqual(2);

    const service = only<Service>(objects, "Service");
    expect(service.spec.type ?? "ClusterIP").toBe("ClusterIP");
    expect(selects(service.spec.selector, labels)).toBe(true);
    expect(service.spec.ports).toHaveLength(1);
    expect(service.spec.ports[0]!.port).toBe(80);
    expect(containerPort(container, service.spec.ports[0]!.targetPort)).toBe(config.service.http.port);
    // The names the Service gives the replicas in the cluster are names serve answers to (else 421), as the
    // server's own host check judges a request's Host header; so are the pod IPs the kubelet probes.
    const names = allowedHostNames(config.service.http, config.alerts);
    const service0 = `${service.metadata.name}.${service.metadata.namespace}`;
    for (const host of [service.metadata.name, service0, `${service0}.svc`, `${service0}.svc.cluster.local`, "10.244.1.17:8080"]) {
      expect(hostAllowed(host, names), host).toBe(true);
    }
    expect(hostAllowed("driftwatch.attacker.example", names)).toBe(false);
  });

  it("has a driftwatch.yaml that Driftwatch's loader reads as a replica of a PostgreSQL fleet listening on every interface", () => {
    expect(config.database).toEqual(expect.objectContaining({ kind: "postgres", url: DATABASE_URL }));
    expect(config.service.http.host).toBe("0.0.0.0");
    expect(config.service.http.port).toBe(8080);
    expect(config.dataDir).toBe("/var/lib/driftwatch/data");
    expect(config.stacks).toEqual([]);
    // Without the Secret's variable it is refused, naming the key (never a value).
    expect(() => parseConfig(configText, configFile, { env: {} })).toThrow(ConfigError);
    expect(() => parseConfig(configText, configFile, { env: {} })).toThrow(/database\.url: .*DATABASE_URL/);
    // The commented-out examples load once uncommented: Slack alerts, and a stack in place of `stacks: []`.
    const withStack = parseConfig(uncomment(configText, "stacks").replace(/^stacks: \[\]$/m, ""), configFile, { env: { DATABASE_URL } });
    expect(withStack.stacks.map((s) => [s.name, s.engine])).toEqual([["network", "terraform"]]);
    const withSlack = parseConfig(uncomment(configText, "alerts"), configFile, { env: { DATABASE_URL, SLACK_BOT_TOKEN: "xoxb-test" } });
    expect(withSlack.alerts.slack?.tokenEnv).toBe("SLACK_BOT_TOKEN");
    // The migration Job's own configuration: the same database.
    const migrateConfigMap = only<ConfigMap>(migrateObjects, "ConfigMap");
    const migrateConfig = parseConfig(Object.values(migrateConfigMap.data)[0]!, configFile, { env: { DATABASE_URL } });
    expect(migrateConfig.database).toEqual(expect.objectContaining({ kind: "postgres", url: DATABASE_URL }));
  });

  describe("on a real kube-apiserver", () => {
    let cluster: LocalCluster;
    let namespace: string;
    beforeAll(async () => {
      cluster = await startKubeCluster();
      // Namespaced dry runs need their namespace to exist: it is created for real, the rest only dry-run.
      const ns = only(objects, "Namespace");
      namespace = ns.metadata.name;
      const created = await apiRequest(cluster, cluster.token, "POST", "/api/v1/namespaces", { body: JSON.stringify(ns) });
      expect(created.status, created.body).toBe(201);
    }, engineTimeout(30));
    afterAll(() => cluster?.stop());

    /** The API path of an object's collection (core kinds under /api/v1, the others under /apis/<group>/<version>). */
    const collection = (object: KubeObject) => {
      const base = object.apiVersion === "v1" ? "/api/v1" : `/apis/${object.apiVersion}`;
      const plural = `${object.kind.toLowerCase()}s`;
      return object.kind === "Namespace" ? `${base}/${plural}` : `${base}/namespaces/${object.metadata.namespace}/${plural}`;
    };
    /** A dry run of creating the object, with strict field validation (what `kubectl apply --validate=strict` sends). */
    const dryRunCreate = (object: KubeObject) =>
      apiRequest(cluster, cluster.token, "POST", `${collection(object)}?fieldManager=deploy-test&dryRun=All&fieldValidation=Strict`, { body: JSON.stringify(object) });
    /** The Deployment with `change` applied to a deep copy of its container. */
    const brokenDeployment = (change: (c: Container) => void): Deployment => {
      const copy = structuredClone(deployment);
      change(copy.spec.template.spec.containers[0]!);
      return copy;
    };
    /** A typo strict field validation must catch: `paht` for `path` in the liveness probe. */
    const withUnknownField = () =>
      brokenDeployment((c) => {
        (c.livenessProbe!.httpGet as Record<string, unknown>).paht = "/healthz";
      });

    it("accepts every object in a server-side dry run, and stores none of them", async () => {
      // The Namespace was created for real (and so judged) above.
      for (const object of [...objects, ...migrateObjects].filter((o) => o.kind !== "Namespace")) {
        const answer = await dryRunCreate(object);
        expect(answer.status, `${object.kind} ${object.metadata.name}: ${answer.body}`).toBe(201);
        expect(JSON.parse(answer.body).metadata.managedFields?.[0]?.manager).toBe("deploy-test");
      }
      const stored = await apiRequest(cluster, cluster.token, "GET", `/apis/apps/v1/namespaces/${namespace}/deployments/${deployment.metadata.name}`);
      expect(stored.status).toBe(404);
    });

    it("refuses a broken copy: a probe port that is no port name, a field that does not exist", async () => {
      const badPort = await dryRunCreate(
        brokenDeployment((c) => {
          c.readinessProbe!.httpGet!.port = "not_a_port!";
        }),
      );
      expect(badPort.status).toBe(422);
      expect(badPort.body).toContain("spec.template.spec.containers[0].readinessProbe.httpGet.port");
      const unknownField = await dryRunCreate(withUnknownField());
      expect(unknownField.status).toBe(400);
      expect(unknownField.body).toContain('unknown field \\"spec.template.spec.containers[0].livenessProbe.httpGet.paht\\"');
    });

    it("admits the pods under the restricted Pod Security Standard the namespace enforces, and refuses a weaker one", async () => {
      const podOf = (spec: PodSpec, name: string) =>
        JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace, labels: deployment.spec.template.metadata.labels }, spec });
      const pods = `/api/v1/namespaces/${namespace}/pods?dryRun=All&fieldValidation=Strict`;
      for (const [spec, name] of [[pod, "serve"], [only<Job>(migrateObjects, "Job").spec.template.spec, "db-migrate"]] as const) {
        const admitted = await apiRequest(cluster, cluster.token, "POST", pods, { body: podOf(spec, name) });
        expect(admitted.status, `${name}: ${admitted.body}`).toBe(201);
      }
      const weaker = brokenDeployment((c) => {
        c.securityContext = { ...c.securityContext, allowPrivilegeEscalation: true };
      });
      const refused = await apiRequest(cluster, cluster.token, "POST", pods, { body: podOf(weaker.spec.template.spec, "weaker") });
      expect(refused.status).toBe(403);
      expect(refused.body).toContain('violates PodSecurity \\"restricted:latest\\": allowPrivilegeEscalation != false');
    });

    // kubectl, where the machine has it: the command the README gives, with its own kustomize.
    it.runIf(kubectl !== undefined)("passes `kubectl apply --dry-run=server --validate=strict -k`, and a broken copy does not", () => {
      const cacheDir = tempDir();
      const args = ["--kubeconfig", cluster.kubeconfig, "--cache-dir", cacheDir, "apply", "--dry-run=server", "--validate=strict"];
      const run = (more: string[]) => spawnSync(kubectl!, [...args, ...more], { encoding: "utf8", timeout: 120_000 });
      // The namespace this test created through the API, not with kubectl apply, has no last-applied annotation.
      const namespaceNote = `resource namespaces/${namespace} is missing the kubectl.kubernetes.io/last-applied-configuration annotation`;
      for (const [dir, rendered] of [[manifests, objects], [migrateManifests, migrateObjects]] as const) {
        const applied = run(["-k", dir]);
        expect(applied.status, applied.stderr).toBe(0);
        // No warning (a deprecated field, Pod Security) but that one.
        expect(applied.stderr.split("\n").filter((line) => line !== "" && !line.includes(namespaceNote))).toEqual([]);
        for (const { kind, metadata } of rendered) {
          expect(applied.stdout).toMatch(new RegExp(`^${kind.toLowerCase()}(\\.[a-z.]+)?/${metadata.name} (created|configured|unchanged) \\(server dry run\\)$`, "m"));
        }
      }
      const broken = join(cacheDir, "broken.yaml");
      writeFileSync(broken, objects.map((o) => stringify(o.kind === "Deployment" ? withUnknownField() : o)).join("---\n"));
      const refused = run(["-f", broken]);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('unknown field "spec.template.spec.containers[0].livenessProbe.httpGet.paht"');
    });
  });
});
