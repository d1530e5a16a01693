// The CloudFormation engine: the template in Git against the deployed stack.
//   detect    native drift detection (drift) and, unless the deployed template and parameters are Git's, a
//             review-only change set of Git's template (pending), at once
//   remediate a drift-aware change set (REVERT_DRIFT) is the plan; executed exactly as described if decided so
//   converge  the same change set, executed without asking (a plain update when drift-aware is impossible)
// Secrets: NoEcho parameters and dynamic references are masked before anything leaves the engine.
import { type CloudFormationClient } from "@aws-sdk/client-cloudformation";
import pLimit from "p-limit";
import type { CloudFormationStackConfig } from "../../config/types.ts";
import { DriftwatchError, EngineError, errorMessage, RemediationUnavailableError, StackLockedError, TimeoutError } from "../../core/errors.ts";
import { fingerprintChanges } from "../../core/fingerprint.ts";
import type { Detection, ResourceChange } from "../../core/types.ts";
import { worktreeFolder } from "../../core/worktree-file.ts";
import type { Engine, EngineContext, EngineDependencies, PlanDecision, RemediationPlan } from "../api.ts";
import { changeSetChangeOf, masked } from "./changes.ts";
import { createChangeSet, deleteChangeSet, executeChangeSet } from "./change-set.ts";
import { accountKey, cloudFormationClient } from "./client.ts";
import { deployedMatchesGit } from "./deployed.ts";
import { detectDrift } from "./drift.ts";
import { DEFAULT_POLL, type PollTiming } from "./poll.ts";
import { loadTemplate, type CfnTemplate } from "./template.ts";

/** Drift detections one account runs at once (CloudFormation refuses too many concurrent ones). */
const DRIFT_DETECTIONS_PER_ACCOUNT = 4;

export interface CloudFormationEngineOptions {
  poll?: PollTiming;
}

interface Session {
  stack: CloudFormationStackConfig;
  client: CloudFormationClient;
  template: CfnTemplate;
  signal: AbortSignal;
}

/** AWS's errors as Driftwatch's: a missing stack, a stack busy with another operation, missing credentials, the timeout. */
function classify(error: unknown, stack: CloudFormationStackConfig, signal: AbortSignal): Error {
  const { stackName, region } = stack.cloudformation;
  if (signal.aborted) return new TimeoutError(`stack ${stack.name} did not finish within ${stack.timeoutSeconds}s; the CloudFormation calls were abandoned (a change set in progress goes on in AWS)`);
  if (error instanceof DriftwatchError) return error;
  const name = error instanceof Error ? error.name : "";
  const message = errorMessage(error);
  if (name === "ValidationError" && /does not exist/i.test(message)) return new EngineError(`CloudFormation stack ${stackName} does not exist in ${region}: ${message}`);
  if (name === "ValidationError" && /IN_PROGRESS|in progress/.test(message)) return new StackLockedError(`CloudFormation stack ${stackName} is busy with another operation: ${message}`);
  if (name === "CredentialsProviderError" || /credential/i.test(message)) return new EngineError(`no usable AWS credentials for stack ${stack.name} (set them in its env: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a web identity): ${message}`);
  return new EngineError(`CloudFormation failed for stack ${stack.name} (${stackName}, ${region}): ${name ? `${name}: ` : ""}${message}`);
}

function asCloudFormationStack(ctx: EngineContext): CloudFormationStackConfig {
  if (ctx.stack.engine !== "cloudformation") throw new EngineError(`stack ${ctx.stack.name} is not a cloudformation stack`);
  return ctx.stack;
}

export function createCloudFormationEngine(_deps: EngineDependencies, options: CloudFormationEngineOptions = {}): Engine {
  const poll = options.poll ?? DEFAULT_POLL;
  const limits = new Map<string, ReturnType<typeof pLimit>>();
  const limitFor = (key: string) => {
    let limit = limits.get(key);
    if (!limit) limits.set(key, (limit = pLimit(DRIFT_DETECTIONS_PER_ACCOUNT)));
    return limit;
  };

  /** Runs `fn` with a client and the template, and turns AWS's errors into Driftwatch's. */
  async function withSession<T>(ctx: EngineContext, fn: (session: Session) => Promise<T>): Promise<T> {
    const stack = asCloudFormationStack(ctx);
    const template = await loadTemplate(stack.cloudformation, worktreeFolder(ctx.dir, stack.source.path), stack.name);
    const client = cloudFormationClient(stack.cloudformation, ctx.env);
    try {
      return await fn({ stack, client, template, signal: ctx.signal });
    } catch (error) {
      throw classify(error, stack, ctx.signal);
    } finally {
      client.destroy();
    }
  }

  /** The drift-aware change set as the remediation plan, masked; undefined when there is nothing to revert. */
  async function planRevert(session: Session): Promise<{ name: string; plan: RemediationPlan } | undefined> {
    const set = await createChangeSet(session.client, session.stack.cloudformation, session.template, "revert", { signal: session.signal, poll });
    if (!set) return undefined;
    const changes = set.changes.flatMap((c) => changeSetChangeOf(c, "pending") ?? []).map((c) => masked(c, session.template));
    return { name: set.name, plan: { changes, fingerprint: fingerprintChanges(changes) } };
  }

  async function remediate(ctx: EngineContext, decide: PlanDecision): Promise<{ plan: RemediationPlan; applied: boolean }> {
    return withSession(ctx, async (session) => {
      const stackName = session.stack.cloudformation.stackName;
      const planned = await planRevert(session);
      if (!planned) return { plan: { changes: [], fingerprint: fingerprintChanges([]) }, applied: false };
      let executing = false;
      try {
        if (planned.plan.changes.length === 0 || !(await decide(planned.plan))) return { plan: planned.plan, applied: false };
        ctx.logger.info({ changeSet: planned.name, changes: planned.plan.changes.length }, "executing the drift-aware change set");
        executing = true;
        await executeChangeSet(session.client, stackName, planned.name, { signal: session.signal, poll });
        return { plan: planned.plan, applied: true };
      } finally {
        // An executed change set is gone; any other is deleted (it would only clutter the stack).
        if (!executing) await deleteChangeSet(session.client, stackName, planned.name);
      }
    });
  }

  return {
    id: "cloudformation",

    detect(ctx): Promise<Detection> {
      return withSession(ctx, async ({ stack, client, template, signal }) => {
        const settings = stack.cloudformation;
        const review = async () =>
          (await deployedMatchesGit(client, settings.stackName, template, signal)) ? undefined : createChangeSet(client, settings, template, "review", { signal, poll });
        // Both to the end, so a review change set is deleted even when the drift detection failed.
        const [drifted, reviewing] = await Promise.allSettled([detectDrift(client, settings.stackName, { signal, poll, limit: limitFor(accountKey(settings, ctx.env)) }), review()]);
        const reviewed = reviewing.status === "fulfilled" ? reviewing.value : undefined;
        if (reviewed) await deleteChangeSet(client, settings.stackName, reviewed.name);
        if (drifted.status === "rejected") throw drifted.reason;
        if (reviewing.status === "rejected") throw reviewing.reason;
        const found = drifted.value;
        const pending = (reviewed?.changes ?? []).flatMap((c) => changeSetChangeOf(c, "pending") ?? []);
        return {
          drift: found.drift.map((c) => masked(c, template)),
          pending: pending.map((c) => masked(c, template)),
          ...(found.unchecked.length > 0 ? { unchecked: found.unchecked } : {}),
        };
      });
    },

    // A person's explicit apply: drift-aware when CloudFormation can; when it cannot, Git's template is still
    // applied with a plain update (what `aws cloudformation deploy` would do), and the log says drift may remain.
    async converge(ctx): Promise<ResourceChange[]> {
      try {
        const { plan, applied } = await remediate(ctx, async () => true);
        return applied ? plan.changes : [];
      } catch (error) {
        if (!(error instanceof RemediationUnavailableError)) throw error;
        ctx.logger.warn({ err: error.message }, "no drift-aware change set possible: applying Git's template with a plain update; drift of unsupported resources may remain");
        return withSession(ctx, async (session) => {
          const stackName = session.stack.cloudformation.stackName;
          const set = await createChangeSet(session.client, session.stack.cloudformation, session.template, "update", { signal: session.signal, poll });
          if (!set) return [];
          await executeChangeSet(session.client, stackName, set.name, { signal: session.signal, poll });
          return set.changes.flatMap((c) => changeSetChangeOf(c, "pending") ?? []).map((c) => masked(c, session.template));
        });
      }
    },

    remediate,
  };
}
