// The Pulumi engine: Automation API on the provisioned CLI, a LocalWorkspace on the stack's worktree folder.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalWorkspace, PulumiCommand, type EngineEvent, type Stack } from "@pulumi/pulumi/automation/index.js";
import { EngineError, errorMessage } from "../../core/errors.ts";
import { fingerprintChanges } from "../../core/fingerprint.ts";
import { timed } from "../../core/phase-timer.ts";
import { preparePrivateDir } from "../../core/private-dir.ts";
import type { Detection, ResourceChange } from "../../core/types.ts";
import { worktreeFolder } from "../../core/worktree-file.ts";
import type { Engine, EngineContext, EngineDependencies, RemediationPlan } from "../api.ts";
import { isInside, localStateWarning } from "../replica-local-state.ts";
import { isolatedCommand } from "./command.ts";
import { ensureDependencies } from "./dependencies.ts";
import { classifyPulumiError, planViolation } from "./errors.ts";
import { changesFromEvents, isPlanRefusal, planRefusals } from "./events.ts";
import { type FallbackEvents, separateOnePass } from "./one-pass.ts";
import { withPlanFile } from "./plan-file.ts";
import { killProcessesIn, releaseStaleLocks } from "./processes.ts";

/** How long the CLI gets to cancel cleanly (and release its lock) after an interrupt, before it is killed. */
const CANCEL_GRACE_MS = 10_000;

/** The Pulumi settings of the context's stack (the registry only hands pulumi stacks to this engine). */
function settingsOf(ctx: EngineContext) {
  if (ctx.stack.engine !== "pulumi") throw new EngineError(`stack ${ctx.stack.name} is not a pulumi stack`);
  return ctx.stack.pulumi;
}

export function createPulumiEngine(deps: EngineDependencies): Engine {
  let command: Promise<PulumiCommand> | undefined;
  const warnLocalState = localStateWarning(deps);
  const pulumiCommand = () => (command ??= PulumiCommand.get({ root: dirname(deps.toolchain.pulumi.binDir) }).then(isolatedCommand));

  async function openStack(ctx: EngineContext): Promise<Stack> {
    await timed(ctx.timings, "install", () => ensureDependencies({ folder: worktreeFolder(ctx.dir, ctx.stack.source.path), stack: ctx.stack.name, cacheDir: deps.cacheDir, env: ctx.env, logger: ctx.logger }));
    const settings = settingsOf(ctx);
    const backend = settings.backendUrl;
    // Stack state (secrets encrypted, everything else in clear): the service's user only.
    if (backend.startsWith("file://")) {
      preparePrivateDir(fileURLToPath(backend));
      if (isInside(fileURLToPath(backend), deps.dataDir)) {
        warnLocalState(ctx.stack.name, ctx.logger, "its backend is a folder in it; give the stack a pulumi.backendUrl every replica reaches (s3://, gs://, azblob://, Pulumi Cloud)");
      }
    }
    const envVars: Record<string, string> = {};
    for (const [key, value] of Object.entries(ctx.env)) if (value !== undefined) envVars[key] = value;
    envVars.PULUMI_BACKEND_URL = settings.backendUrl;
    envVars.PULUMI_SKIP_UPDATE_CHECK = "true";
    // Type errors are the program author's CI's business; Driftwatch only needs the program to run.
    envVars.PULUMI_NODEJS_TRANSPILE_ONLY ??= "true";
    const args = { stackName: settings.stack, workDir: ctx.dir };
    const options = { pulumiCommand: await pulumiCommand(), envVars };
    try {
      return await LocalWorkspace.createOrSelectStack(args, options);
    } catch (error) {
      // Two runs of a new stack at once (a converge beside a scheduled check): both found no stack, one created it.
      if (error instanceof Error && /already exists/.test(error.message)) return LocalWorkspace.selectStack(args, options);
      throw error;
    }
  }

  /**
   * Runs one Automation API operation under the stack's timeout: on expiry the CLI is interrupted (it cancels and
   * releases its lock); if it is still there after a grace period, it is killed with its children and the lock
   * it leaves in a file:// backend is removed.
   */
  async function guarded<T>(ctx: EngineContext, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (ctx.signal.aborted) throw classifyPulumiError(new Error("aborted"), { timedOut: true, timeoutSeconds: ctx.stack.timeoutSeconds, stack: ctx.stack.name });
    const controller = new AbortController();
    let killer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      controller.abort();
      killer = setTimeout(() => {
        const killed = killProcessesIn(ctx.dir);
        if (killed.length > 0) ctx.logger.warn({ pids: killed }, "engine ignored the interrupt; killed it");
      }, CANCEL_GRACE_MS);
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await operation(controller.signal);
    } catch (error) {
      if (ctx.signal.aborted) {
        const released = releaseStaleLocks(settingsOf(ctx).backendUrl, settingsOf(ctx).stack);
        if (released.length > 0) ctx.logger.warn({ locks: released }, "released the stack lock left by the stopped engine");
      }
      throw classifyPulumiError(error, { timedOut: ctx.signal.aborted, timeoutSeconds: ctx.stack.timeoutSeconds, stack: ctx.stack.name });
    } finally {
      clearTimeout(killer);
      ctx.signal.removeEventListener("abort", onAbort);
    }
  }

  return {
    id: "pulumi",

    async detect(ctx): Promise<Detection> {
      const stack = await guarded(ctx, () => openStack(ctx));
      // One pass: the refresh steps are the drift, the program's steps after them hold the pending changes. With
      // runProgram the engine refreshes each resource as the program registers it, instead of all of them before
      // the program starts: the pass then costs about what a plain preview does (see one-pass.ts).
      const events: EngineEvent[] = [];
      await guarded(ctx, (signal) => stack.preview({ refresh: true, runProgram: true, onEvent: (e) => events.push(e), signal, color: "never" }));
      const answers: FallbackEvents = {};
      let separation = separateOnePass(events, { runProgram: true });
      // What the pass cannot tell is asked again, of just those resources (see one-pass.ts for which and why).
      // Neither a preview nor a preview-only refresh takes the stack's lock.
      if (separation.driftUnknown.length > 0) {
        const target = separation.driftUnknown;
        ctx.logger.info({ fallback: "previewRefresh", resources: target.length }, "one pass cannot tell whether these resources drifted; refreshing just them");
        const refreshEvents: EngineEvent[] = [];
        await guarded(ctx, (signal) => stack.previewRefresh({ target, onEvent: (e) => refreshEvents.push(e), signal, color: "never" }));
        answers.refresh = refreshEvents;
        separation = separateOnePass(events, { runProgram: true, answers });
        const missing = separation.driftUnknown;
        if (missing.length > 0) throw new EngineError(`stack ${ctx.stack.name}: the preview-only refresh did not report ${missing.join(", ")}`);
      }
      if (separation.pendingUnknown.length > 0) {
        ctx.logger.info({ fallback: "preview", resources: separation.pendingUnknown.length }, "one pass cannot tell what Git changes in these resources; previewing them without refresh");
        const previewEvents: EngineEvent[] = [];
        await guarded(ctx, (signal) => stack.preview({ onEvent: (e) => previewEvents.push(e), signal, color: "never" }));
        answers.preview = previewEvents;
        separation = separateOnePass(events, { runProgram: true, answers });
      }
      return { drift: separation.drift, pending: separation.pending };
    },

    async remediate(ctx, decide) {
      const stack = await guarded(ctx, () => openStack(ctx));
      // The preview saves its update plan; the plan judged is built from that same preview's events, and `up`
      // is held to that plan: Pulumi itself refuses any resource operation the preview did not show, even from a
      // program that declares something else when it is not a dry run.
      return withPlanFile(join(deps.dataDir, "pulumi", ctx.stack.name), async (planFile) => {
        const previewEvents: EngineEvent[] = [];
        await guarded(ctx, (signal) => stack.preview({ refresh: true, plan: planFile, onEvent: (e) => previewEvents.push(e), signal, color: "never" }));
        const changes = changesFromEvents("pending", previewEvents);
        const planned: RemediationPlan = { changes, fingerprint: fingerprintChanges(changes) };
        if (!(await decide(planned))) return { plan: planned, applied: false };
        const upEvents: EngineEvent[] = [];
        try {
          await guarded(ctx, (signal) => stack.up({ refresh: true, plan: planFile, onEvent: (e) => upEvents.push(e), signal, color: "never" }));
        } catch (error) {
          const refusals = planRefusals(upEvents);
          if (refusals.length > 0 || isPlanRefusal(errorMessage(error))) throw planViolation(ctx.stack.name, refusals);
          throw error;
        }
        return { plan: planned, applied: true };
      });
    },

    async converge(ctx): Promise<ResourceChange[]> {
      const stack = await guarded(ctx, () => openStack(ctx));
      const events: EngineEvent[] = [];
      await guarded(ctx, (signal) => stack.up({ refresh: true, signal, color: "never", onEvent: (event) => events.push(event) }));
      // The steps `up` took besides its refresh: the same reading as a preview's.
      return changesFromEvents("pending", events);
    },
  };
}
