// The Kubernetes engine: a folder of manifests in Git against a cluster, with server-side apply.
//   A = the object set of Driftwatch's last successful apply (database), G = what this commit renders, L = live.
//   drift     L against a dry run of A, on the fields our manager owns (no A yet: against G, said in a note)
//   pending   G against A, refined by dry runs so an edit the server normalises away is no change
//   remediate the plan is G dry-run against L, plus prunes (A minus G); applied object by object with the
//             resourceVersion the plan saw, so an object that moved since stops the apply (PlanChangedError)
import pLimit from "p-limit";
import type { KubernetesStackConfig } from "../../config/types.ts";
import { EngineError, PlanChangedError, TimeoutError } from "../../core/errors.ts";
import { fingerprintChanges } from "../../core/fingerprint.ts";
import { valueAt } from "../../core/property-diff.ts";
import type { Detection, PropertyDiff, ResourceChange } from "../../core/types.ts";
import { worktreeFolder } from "../../core/worktree-file.ts";
import type { Engine, EngineContext, EngineDependencies, PlanDecision, RemediationPlan } from "../api.ts";
import { applySetOf, asMember, parentObject, type ApplySet } from "./applyset.ts";
import { digestKey, readBaseline, writeBaseline, type Baseline } from "./baseline.ts";
import { KubeClient } from "./client.ts";
import { Cluster, coreTarget, type Target } from "./cluster.ts";
import { compareManifests, compareOwned, compareSecretData, createProperties } from "./compare.ts";
import { SharedDiscovery } from "./discovery.ts";
import { KubernetesApiError } from "./errors.ts";
import { mergeFieldSets, withoutFields } from "./fields.ts";
import { isCrd, isNamespace, isPlainObject, isSecret, typeOf, type FieldSet, type KubeObject } from "./objects.ts";
import { renderManifests } from "./render.ts";
import { maskedProperty, SecretDigester, withoutData } from "./secrets.ts";

/** Requests one stack has in flight at once (an API server answers many; a 2-core CI machine runs several stacks). */
const REQUESTS_PER_STACK = 8;

interface Session {
  ctx: EngineContext;
  stack: KubernetesStackConfig;
  cluster: Cluster;
  digester: SecretDigester;
  set: ApplySet;
  limit: ReturnType<typeof pLimit>;
}

/** One step of a plan: what to do to which object, and the resourceVersion the plan saw. */
interface Step {
  target: Target;
  action: "create" | "update" | "replace" | "delete";
  object?: KubeObject;
  resourceVersion?: string;
  change: ResourceChange;
}

interface Plan {
  steps: Step[];
  members: Target[];
  /** A, resolved: what the parent lists until the prunes are done. */
  applied: Target[] | undefined;
}

function asKubernetesStack(ctx: EngineContext): KubernetesStackConfig {
  if (ctx.stack.engine !== "kubernetes") throw new EngineError(`stack ${ctx.stack.name} is not a kubernetes stack`);
  return ctx.stack;
}

/** What is dry-run for an object: a Secret without its values (they are compared by digest, never sent to check). */
function forDryRun(target: Target, object: KubeObject = target.object): KubeObject {
  return isSecret(target.id) ? withoutData(object) : object;
}

function change(kind: ResourceChange["kind"], target: Target, action: ResourceChange["action"], properties: PropertyDiff[], replacePaths?: string[]): ResourceChange {
  return { kind, address: target.address, type: typeOf(target.id), action, properties, ...(replacePaths?.length ? { replacePaths } : {}) };
}

/** Properties of a replacement: the immutable fields, as the two manifests have them. */
function replaceProperties(target: Target, fields: readonly string[], desired: KubeObject, actual: KubeObject | undefined): PropertyDiff[] {
  return fields.map((path) => maskedProperty(target.id, { path, desired: valueAt(desired, path) ?? null, actual: valueAt(actual, path) ?? null }));
}

function withoutChangedBy(properties: PropertyDiff[]): PropertyDiff[] {
  return properties.map(({ changedBy: _changedBy, ...rest }) => rest);
}

/** Apply order: namespaces, CRDs, then everything else; deletes after all applies, in the reverse order. */
function rank(step: Step): number {
  const tier = isNamespace(step.target.id) ? 0 : isCrd(step.target.id) ? 1 : 2;
  return step.action === "delete" ? 10 - tier : tier;
}

export function createKubernetesEngine(deps: EngineDependencies): Engine {
  let digester: SecretDigester | undefined;
  const discovery = new SharedDiscovery();

  function kustomize(stack: string): string {
    const bin = deps.toolchain.kubernetes?.kustomize.bin;
    if (!bin) throw new EngineError(`stack ${stack}: no kustomize was found or built when Driftwatch started (its configuration had no stack rendering kustomizations then); restart it`);
    return bin;
  }

  async function withSession<T>(ctx: EngineContext, fn: (session: Session) => Promise<T>): Promise<T> {
    const stack = asKubernetesStack(ctx);
    const client = KubeClient.load(stack.kubernetes, stack.name);
    const cluster = new Cluster(client, stack.kubernetes, stack.name, ctx.signal, ctx.logger, discovery);
    digester ??= new SecretDigester(digestKey(deps.dataDir));
    const session = { ctx, stack, cluster, digester, set: applySetOf(stack.name, stack.kubernetes.namespace), limit: pLimit(REQUESTS_PER_STACK) };
    try {
      return await fn(session);
    } catch (error) {
      // Stack-run turns it into InterruptedError when Driftwatch was stopping rather than the timeout expiring.
      if (ctx.signal.aborted && !(error instanceof TimeoutError)) throw new TimeoutError(`stack ${stack.name} did not finish within ${stack.timeoutSeconds}s; the API calls were abandoned`);
      throw error;
    }
  }

  /** G: this commit's objects, resolved; and A, resolved (objects whose kind is gone from the server have no resource). */
  async function load(session: Session): Promise<{ git: Target[]; baseline: Baseline | undefined; applied: Target[] | undefined }> {
    const { ctx, stack, cluster } = session;
    const rendered = await renderManifests(worktreeFolder(ctx.dir, stack.source.path), {
      stack: stack.name,
      settings: stack.kubernetes,
      kustomize: stack.kubernetes.render === "plain" ? "" : kustomize(stack.name),
      sandbox: ctx.sandbox,
      env: ctx.env,
      signal: ctx.signal,
      logger: ctx.logger,
    });
    const baseline = await readBaseline(ctx.state, stack.name);
    const declared = [...rendered.map((r) => r.object), ...(baseline?.objects ?? [])];
    const git = await cluster.targets(rendered, declared);
    const applied = baseline ? await cluster.targets(baseline.objects.map((object) => ({ object, origin: "the last apply" })), declared, { unknownKinds: "absent" }) : undefined;
    return { git, baseline, applied };
  }

  /** Drift of one object of the baseline: L against a dry run of it. */
  async function driftOf(session: Session, target: Target, againstGit: boolean): Promise<{ change?: ResourceChange; live?: KubeObject; dry?: KubeObject }> {
    const { cluster, stack, digester } = session;
    const settings = stack.kubernetes;
    const live = await cluster.live(target);
    if (!live) return { change: change("drift", target, "delete", []) };
    const dry = await cluster.dryRun(target, forDryRun(target));
    if ("immutable" in dry) return { live, change: change("drift", target, "replace", replaceProperties(target, dry.immutable, target.object, live), dry.immutable) };
    if (!("ok" in dry)) return { live };
    const options = { fieldManager: settings.fieldManager, trustedManagers: settings.trustedManagers, ignoreMembership: againstGit };
    const properties = [...compareOwned(target.id, dry.ok, live, live, options), ...compareSecretData(target.id, target.object, live, live, digester, settings.fieldManager)];
    return { live, dry: dry.ok, ...(properties.length ? { change: change("drift", target, "update", properties) } : {}) };
  }

  /** Pending work of one object of G against A (both dry-run where the server can; as written where it cannot). */
  async function pendingOf(session: Session, member: Target, applied: Target | undefined, seen: Map<string, { live?: KubeObject; dry?: KubeObject }>): Promise<ResourceChange | undefined> {
    const { cluster, stack, digester } = session;
    const settings = stack.kubernetes;
    if (!applied) return change("pending", member, "create", createProperties(member.id, member.object));
    if (JSON.stringify(digester.storable(member.object, member.id)) === JSON.stringify(applied.object)) return undefined;
    const known = seen.get(applied.key);
    const [git, before] = await Promise.all([
      cluster.dryRun(member, forDryRun(member)),
      known?.dry ? Promise.resolve({ ok: known.dry }) : cluster.dryRun(applied, forDryRun(applied)),
    ]);
    if ("immutable" in git) return change("pending", member, "replace", replaceProperties(member, git.immutable, member.object, known?.live ?? applied.object), git.immutable);
    let properties: PropertyDiff[];
    if ("ok" in git && "ok" in before) {
      const options = { fieldManager: settings.fieldManager, trustedManagers: settings.trustedManagers };
      properties = withoutChangedBy(compareOwned(member.id, git.ok, before.ok, known?.live, options, before.ok));
    } else {
      properties = compareManifests(member.id, forDryRun(member), forDryRun(applied));
    }
    properties.push(...withoutChangedBy(compareSecretData(member.id, member.object, applied.object, undefined, digester, settings.fieldManager)));
    return properties.length ? change("pending", member, "update", properties) : undefined;
  }

  async function detect(ctx: EngineContext): Promise<Detection> {
    return withSession(ctx, async (session) => {
      const { git, baseline, applied } = await load(session);
      const againstGit = !applied;
      const judged = applied ?? git;
      const seen = new Map<string, { live?: KubeObject; dry?: KubeObject }>();
      const drifts = await Promise.all(
        judged.map((target) =>
          session.limit(async () => {
            const found = await driftOf(session, target, againstGit);
            seen.set(target.key, { ...(found.live ? { live: found.live } : {}), ...(found.dry ? { dry: found.dry } : {}) });
            return found.change;
          }),
        ),
      );
      const pending: (ResourceChange | undefined)[] = [];
      if (applied) {
        const byKey = new Map(applied.map((t) => [t.key, t]));
        const members = git.map((t) => ({ ...t, object: asMember(t.object, session.set) }));
        pending.push(...(await Promise.all(members.map((m) => session.limit(() => pendingOf(session, m, byKey.get(m.key), seen))))));
        if (session.stack.kubernetes.prune) {
          const kept = new Set(git.map((t) => t.key));
          for (const a of applied) if (!kept.has(a.key) && seen.get(a.key)?.live) pending.push(change("pending", a, "delete", []));
        }
      }
      const notes = againstGit
        ? [
            `no apply by Driftwatch is recorded for stack ${session.stack.name} yet: drift is judged against Git (commit ${ctx.commit?.slice(0, 12) ?? "checked out"}), ` +
              "not against a last apply, and nothing is pending until the first converge",
          ]
        : [];
      ctx.logger.debug({ server: session.cluster.server, objects: judged.length, baseline: baseline?.commit ?? "git" }, "cluster compared");
      return { drift: drifts.filter((c) => c !== undefined), pending: pending.filter((c) => c !== undefined), ...(notes.length ? { notes } : {}) };
    });
  }

  /** The fields trusted managers own in the live object: left to them, never applied over. */
  function trustedFields(live: KubeObject | undefined, trusted: readonly string[]): FieldSet | undefined {
    const entries = (live?.metadata.managedFields ?? []).filter((e) => e.manager && trusted.includes(e.manager) && e.fieldsV1);
    return entries.length ? entries.map((e) => e.fieldsV1!).reduce(mergeFieldSets, {}) : undefined;
  }

  async function plan(session: Session): Promise<Plan> {
    const { cluster, stack, digester } = session;
    const settings = stack.kubernetes;
    const { git, applied } = await load(session);
    const members = git.map((t) => ({ ...t, object: asMember(t.object, session.set) }));
    const stepOf = async (member: Target): Promise<Step | undefined> => {
      const live = await cluster.live(member);
      const leftAlone = trustedFields(live, settings.trustedManagers);
      const object = leftAlone ? (withoutFields(member.object, leftAlone) as KubeObject) : member.object;
      if (!live) {
        // Dry-run where the server can (its namespace exists): a manifest it would refuse fails the plan, not the apply.
        const dry = await cluster.dryRun(member, forDryRun(member, object));
        if ("immutable" in dry) throw new EngineError(`stack ${stack.name}: ${member.origin}: the API server refuses to create ${member.address}: immutable fields ${dry.immutable.join(", ")}`);
        return { target: member, action: "create", object, change: change("pending", member, "create", createProperties(member.id, member.object)) };
      }
      const resourceVersion = live.metadata.resourceVersion;
      const dry = await cluster.dryRun(member, forDryRun(member, object));
      if ("immutable" in dry) {
        return { target: member, action: "replace", object, ...(resourceVersion ? { resourceVersion } : {}), change: change("pending", member, "replace", replaceProperties(member, dry.immutable, member.object, live), dry.immutable) };
      }
      if (!("ok" in dry)) return undefined;
      const options = { fieldManager: settings.fieldManager, trustedManagers: settings.trustedManagers };
      const properties = [...withoutChangedBy(compareOwned(member.id, dry.ok, live, live, options, live)), ...withoutChangedBy(compareSecretData(member.id, member.object, live, live, digester, settings.fieldManager))];
      if (properties.length === 0) return undefined;
      return { target: member, action: "update", object, ...(resourceVersion ? { resourceVersion } : {}), change: change("pending", member, "update", properties) };
    };
    const steps = (await Promise.all(members.map((m) => session.limit(() => stepOf(m))))).filter((s) => s !== undefined);
    if (settings.prune && applied) {
      const kept = new Set(members.map((m) => m.key));
      const prunes = await Promise.all(
        applied
          .filter((a) => !kept.has(a.key))
          .map((a) =>
            session.limit(async (): Promise<Step | undefined> => {
              const live = await cluster.live(a);
              const resourceVersion = live?.metadata.resourceVersion;
              return live ? { target: a, action: "delete", ...(resourceVersion ? { resourceVersion } : {}), change: change("pending", a, "delete", []) } : undefined;
            }),
          ),
      );
      steps.push(...prunes.filter((s) => s !== undefined));
    }
    steps.sort((a, b) => rank(a) - rank(b));
    return { steps, members, applied };
  }

  /** The parent Secret's namespace exists, or the plan creates it: checked before anything is applied. */
  async function requireParentNamespace(session: Session, planned: Plan): Promise<void> {
    const namespace = session.set.parent.namespace;
    if (planned.steps.some((s) => s.action !== "delete" && isNamespace(s.target.id) && s.target.id.name === namespace)) return;
    if (await session.cluster.live(coreTarget({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }, "namespaces", "kubernetes.namespace"))) return;
    throw new EngineError(
      `stack ${session.stack.name}: namespace ${namespace} (kubernetes.namespace, where the ApplySet parent Secret driftwatch-${session.stack.name} lives) does not exist and the stack does not declare it; nothing was applied`,
    );
  }

  /** Applies the parent Secret listing what the set holds (kubectl's view of it). */
  async function applyParent(session: Session, members: readonly Target[]): Promise<void> {
    const parent = parentObject(session.set, members.map((m) => m.id));
    await session.cluster.apply(coreTarget(parent, "secrets", "the ApplySet parent"), parent);
  }

  function moved(session: Session, step: Step, remaining: number, error: unknown): Error {
    if (error instanceof KubernetesApiError && error.status === 409) {
      return new PlanChangedError(
        `stack ${session.stack.name}: ${step.target.address} changed in the cluster since the plan was judged (it was at resourceVersion ${step.resourceVersion ?? "none"}); ` +
          `it and the ${remaining} step(s) after it were not applied, what was applied before stands. Check the stack again for a fresh plan.`,
      );
    }
    return error instanceof Error ? error : new EngineError(String(error));
  }

  /** A := the members as applied (Secret values as digests), with the commit they came from. */
  async function recordApplied(session: Session, members: readonly Target[]): Promise<void> {
    await writeBaseline(session.ctx.state, members.map((m) => session.digester.storable(m.object, m.id)), session.ctx.commit);
  }

  /** Applies the judged steps in order, each held to the resourceVersion the plan saw; records A after the last. */
  async function execute(session: Session, planned: Plan): Promise<void> {
    const { ctx } = session;
    await requireParentNamespace(session, planned);
    const namespacesAndCrds = planned.steps.filter((s) => s.action !== "delete" && rank(s) < 2);
    const rest = planned.steps.filter((s) => !namespacesAndCrds.includes(s));
    let remaining = planned.steps.length;
    const run = async (step: Step) => {
      remaining -= 1;
      try {
        await applyStep(session, step);
      } catch (error) {
        throw moved(session, step, remaining, error);
      }
    };
    for (const step of namespacesAndCrds) await run(step);
    // The parent lists every kind of A and G until the prunes are done, then only G's.
    await applyParent(session, [...planned.members, ...(planned.applied ?? [])]);
    for (const step of rest) await run(step);
    await applyParent(session, planned.members);
    await recordApplied(session, planned.members);
    ctx.logger.info({ applied: planned.steps.length, commit: ctx.commit }, "applied; recorded as the stack's last apply");
  }

  async function applyStep(session: Session, step: Step): Promise<void> {
    const { cluster, ctx } = session;
    let target = step.target;
    if (!target.info) target = await cluster.resolveAgain(target);
    ctx.logger.info({ object: target.address, action: step.action }, "applying");
    if (step.action === "delete" || step.action === "replace") {
      await cluster.delete(target, step.resourceVersion ?? "");
      if (step.action === "delete") return;
      await cluster.waitFor(`${target.address} to be gone`, async () => (await cluster.live(target)) === undefined);
    }
    const object = { ...step.object!, metadata: { ...step.object!.metadata } };
    if (step.action === "update" && step.resourceVersion) object.metadata.resourceVersion = step.resourceVersion;
    await cluster.apply(target, object);
    if (isCrd(target.id)) {
      await cluster.waitFor(`${target.address} to be established`, async () => {
        const live = await cluster.live(target);
        const conditions = isPlainObject(live?.status) && Array.isArray(live.status.conditions) ? live.status.conditions : [];
        return conditions.some((c: unknown) => isPlainObject(c) && c.type === "Established" && c.status === "True");
      });
    }
  }

  function remediationPlan(planned: Plan): RemediationPlan {
    const changes = planned.steps.map((s) => s.change);
    return { changes, fingerprint: fingerprintChanges(changes) };
  }

  async function remediate(ctx: EngineContext, decide: PlanDecision): Promise<{ plan: RemediationPlan; applied: boolean }> {
    return withSession(ctx, async (session) => {
      const planned = await plan(session);
      const judged = remediationPlan(planned);
      if (planned.steps.length === 0) {
        // The cluster is what Git says: that is the stack's last apply now, whoever made it so.
        await recordApplied(session, planned.members);
        return { plan: judged, applied: false };
      }
      if (!(await decide(judged))) return { plan: judged, applied: false };
      await execute(session, planned);
      return { plan: judged, applied: true };
    });
  }

  return {
    id: "kubernetes",
    detect,
    async converge(ctx) {
      const { plan, applied } = await remediate(ctx, async () => true);
      return applied ? plan.changes : [];
    },
    remediate,
  };
}
