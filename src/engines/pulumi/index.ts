// The Pulumi engine: Automation API on the provisioned CLI, a LocalWorkspace on the stack's worktree folder. Every
// CLI call runs in the run's sandbox (command.ts), which may write the stack's own folder under <dataDir>/pulumi/
// (its file backend, unless it names another, and its update plans) and read its program's dependencies.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalWorkspace, Stack, StackNotFoundError } from "@pulumi/pulumi/automation/index.js";
import { EngineError, errorMessage, OutputTooLargeError } from "../../core/errors.ts";
import { fingerprintChanges } from "../../core/fingerprint.ts";
import { timed } from "../../core/phase-timer.ts";
import { preparePrivateDir } from "../../core/private-dir.ts";
import type { Detection, ResourceChange } from "../../core/types.ts";
import { worktreeFolder } from "../../core/worktree-file.ts";
import type { Engine, EngineContext, EngineDependencies, RemediationPlan } from "../api.ts";
import { isInside, localStateWarning } from "../replica-local-state.ts";
import { migrateSharedBackend } from "./backend-migration.ts";
import { sandboxedCommand } from "./command.ts";
import { ensureDependencies } from "./dependencies.ts";
import { classifyPulumiError, planViolation } from "./errors.ts";
import { changesFromEvents, isPlanRefusal, planRefusals } from "./events.ts";
import { type FallbackEvents, separateOnePass, verdictNeeded } from "./one-pass.ts";
import { RefreshAhead } from "./refresh-ahead.ts";
import { withPlanFile } from "./plan-file.ts";
import { releaseLocksTakenSince, stackLocks } from "./stack-locks.ts";
import { EventSink, MAX_EVENT_BYTES } from "./event-sink.ts";

/** The Pulumi settings of the context's stack (the registry only hands pulumi stacks to this engine). */
function settingsOf(ctx: EngineContext) {
  if (ctx.stack.engine !== "pulumi") throw new EngineError(`stack ${ctx.stack.name} is not a pulumi stack`);
  return ctx.stack.pulumi;
}

/**
 * The Automation API's Stack for `name` in `workspace`, as `Stack.select` makes it but without its `pulumi stack
 * select`: a CLI process before every run whose only effect here is to fail for a stack the backend does not have
 * (every command names its stack with --stack; the selection it records in the private PULUMI_HOME is never read).
 * Its constructor sets exactly these fields (3.259); see creatingIfNew for a stack that does not exist yet.
 */
function unselectedStack(name: string, workspace: LocalWorkspace): Stack {
  return Object.assign(Object.create(Stack.prototype) as Stack, { name, workspace, ready: Promise.resolve() });
}

/** The stack's own folder: its default file backend (backend/) and its update plans (plans-*). */
function stackFolder(dataDir: string, stack: string): string {
  return join(dataDir, "pulumi", stack);
}

export function createPulumiEngine(deps: EngineDependencies): Engine {
  const warnLocalState = localStateWarning(deps);

  async function openStack(ctx: EngineContext): Promise<Stack> {
    const pulumi = deps.toolchain.pulumi;
    if (!pulumi) throw new EngineError(`stack ${ctx.stack.name}: no pulumi was found or built when Driftwatch started (its configuration had no Pulumi stack then); restart it`);
    const folder = worktreeFolder(ctx.dir, ctx.stack.source.path);
    const dependencies = await timed(ctx.timings, "dependencies", () =>
      ensureDependencies({ folder, stack: ctx.stack.name, cacheDir: deps.cacheDir, env: ctx.env, logger: ctx.logger, sandbox: ctx.sandbox, signal: ctx.signal }),
    );
    const settings = settingsOf(ctx);
    const backend = settings.backendUrl;
    const own = stackFolder(deps.dataDir, ctx.stack.name);
    preparePrivateDir(own);
    const writable = [own];
    // Stack state (secrets encrypted, everything else in clear): the service's user only, and this stack's sandbox.
    if (backend.startsWith("file://")) {
      const path = fileURLToPath(backend);
      preparePrivateDir(path);
      await migrateSharedBackend({ dataDir: deps.dataDir, backend: path, folder, pulumiStack: settings.stack, logger: ctx.logger, stack: ctx.stack.name });
      writable.push(path);
      if (isInside(path, deps.dataDir)) {
        warnLocalState(ctx.stack.name, ctx.logger, "its backend is a folder in it; give the stack a pulumi.backendUrl every replica reaches (s3://, gs://, azblob://, Pulumi Cloud)");
      }
    }
    const command = sandboxedCommand({ bin: pulumi.bin, version: pulumi.version, ctx, grants: { readOnly: dependencies.entry ? [dependencies.entry] : [], readWrite: writable } });
    const envVars: Record<string, string> = {};
    for (const [key, value] of Object.entries(ctx.env)) if (value !== undefined) envVars[key] = value;
    envVars.PULUMI_BACKEND_URL = settings.backendUrl;
    envVars.PULUMI_SKIP_UPDATE_CHECK = "true";
    // Type errors are the program author's CI's business; Driftwatch only needs the program to run.
    envVars.PULUMI_NODEJS_TRANSPILE_ONLY ??= "true";
    // Plugins, workspace settings and credentials in the stack's private home: Pulumi would otherwise find the
    // service user's home through the password database, whatever HOME says (and the sandbox refuses it).
    if (envVars.HOME) envVars.PULUMI_HOME ??= join(envVars.HOME, ".pulumi");
    const workspace = await LocalWorkspace.create({ workDir: ctx.dir, pulumiCommand: command, envVars });
    return unselectedStack(settings.stack, workspace);
  }

  /**
   * `operation`, the first of a run on its stack: when the backend has no such stack yet, it is created (`stack init`)
   * and the operation run again. The stack is not selected beforehand (see unselectedStack), so this is where a
   * new stack is found to be new.
   */
  async function creatingIfNew<T>(stack: Stack, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof StackNotFoundError)) throw error;
    }
    try {
      await stack.workspace.createStack(stack.name);
    } catch (error) {
      // Two runs of a new stack at once (a converge beside a scheduled check): both found no stack, one created it.
      if (!(error instanceof Error && /already exists/.test(error.message))) throw error;
    }
    return operation();
  }

  /**
   * Runs one Automation API operation under the stack's timeout: on expiry the CLI is interrupted (it cancels and
   * releases its lock); if it is still there after a grace period, its whole process tree is killed (the sandbox's
   * PID namespace goes with it) and the lock it leaves in a file:// backend is removed.
   */
  async function guarded<T>(ctx: EngineContext, operation: (signal: AbortSignal, onEvent: EventSink["push"]) => Promise<T>, sink = new EventSink()): Promise<T> {
    if (ctx.signal.aborted) throw classifyPulumiError(new Error("aborted"), { timedOut: true, timeoutSeconds: ctx.stack.timeoutSeconds, stack: ctx.stack.name });
    const locksBefore = stackLocks(settingsOf(ctx).backendUrl, settingsOf(ctx).stack);
    const tooMany = () => new OutputTooLargeError("pulumi's engine events", MAX_EVENT_BYTES, { stack: ctx.stack.name });
    try {
      const result = await operation(AbortSignal.any([ctx.signal, sink.signal]), sink.push);
      if (sink.overflowed) throw tooMany();
      return result;
    } catch (error) {
      if (sink.overflowed) throw tooMany();
      if (ctx.signal.aborted) {
        const released = releaseLocksTakenSince(settingsOf(ctx).backendUrl, settingsOf(ctx).stack, locksBefore);
        if (released.length > 0) ctx.logger.warn({ locks: released }, "released the stack lock left by the stopped engine");
      }
      throw classifyPulumiError(error, { timedOut: ctx.signal.aborted, timeoutSeconds: ctx.stack.timeoutSeconds, stack: ctx.stack.name });
    }
  }

  return {
    id: "pulumi",

    async detect(ctx): Promise<Detection> {
      const stack = await guarded(ctx, () => openStack(ctx));
      // One pass: the refresh steps are the drift, the program's steps after them hold the pending changes. With
      // runProgram the engine refreshes each resource as the program registers it, instead of all of them before
      // the program starts: the pass then costs about what a plain preview does (see one-pass.ts).
      // What the pass cannot tell is asked again, of just those resources (see one-pass.ts for which and why): a
      // secret-bearing resource while the pass goes on, as soon as its refresh shows it (refresh-ahead.ts), and
      // whatever is left after the pass. Neither a preview nor a preview-only refresh takes the stack's lock.
      const refreshJust = async (target: string[], stop?: AbortSignal) => {
        const refresh = new EventSink();
        await guarded(ctx, (signal, onEvent) => stack.previewRefresh({ target, onEvent, signal: stop ? AbortSignal.any([signal, stop]) : signal, color: "never" }), refresh);
        return refresh.events;
      };
      const ahead = new RefreshAhead(
        (target, stop) => {
          ctx.logger.info({ fallback: "previewRefresh", during: "pass", resources: target.length }, "one pass cannot tell whether these secret-bearing resources drifted; refreshing just them while it goes on");
          return refreshJust(target, stop);
        },
        // Only the error's class: its message is the CLI's output, which the run reports (masked) if asking again fails too.
        (error, target) => ctx.logger.info({ kind: error instanceof Error ? error.name : typeof error, resources: target.length }, "the preview-only refresh alongside the pass failed; asking again after it"),
      );
      const pass = new EventSink();
      try {
        await guarded(ctx, (signal, onEvent) => creatingIfNew(stack, () => stack.preview({
          refresh: true,
          runProgram: true,
          onEvent: (event) => {
            onEvent(event);
            const urn = verdictNeeded(event);
            if (urn) ahead.offer(urn);
          },
          signal,
          color: "never",
        })), pass);
      } catch (error) {
        await ahead.cancel();
        throw error;
      }
      const events = pass.events;
      const answeredAhead = await ahead.close();
      const answers: FallbackEvents = answeredAhead.length > 0 ? { refresh: answeredAhead } : {};
      const separate = () => timed(ctx.timings, "parse", async () => separateOnePass(events, { runProgram: true, answers }));
      let separation = await separate();
      if (separation.driftUnknown.length > 0) {
        const target = separation.driftUnknown;
        ctx.logger.info({ fallback: "previewRefresh", resources: target.length }, "one pass cannot tell whether these resources drifted; refreshing just them");
        answers.refresh = [...answeredAhead, ...(await refreshJust(target))];
        separation = await separate();
        const missing = separation.driftUnknown;
        if (missing.length > 0) throw new EngineError(`stack ${ctx.stack.name}: the preview-only refresh did not report ${missing.join(", ")}`);
      }
      if (separation.pendingUnknown.length > 0) {
        ctx.logger.info({ fallback: "preview", resources: separation.pendingUnknown.length }, "one pass cannot tell what Git changes in these resources; previewing them without refresh");
        const preview = new EventSink();
        await guarded(ctx, (signal, onEvent) => stack.preview({ onEvent, signal, color: "never" }), preview);
        answers.preview = preview.events;
        separation = await separate();
      }
      return { drift: separation.drift, pending: separation.pending };
    },

    async remediate(ctx, decide) {
      const stack = await guarded(ctx, () => openStack(ctx));
      // The preview saves its update plan; the plan judged is built from that same preview's events, and `up`
      // is held to that plan: Pulumi itself refuses any resource operation the preview did not show, even from a
      // program that declares something else when it is not a dry run.
      return withPlanFile(stackFolder(deps.dataDir, ctx.stack.name), async (planFile) => {
        const preview = new EventSink();
        await guarded(ctx, (signal, onEvent) => creatingIfNew(stack, () => stack.preview({ refresh: true, plan: planFile, onEvent, signal, color: "never" })), preview);
        const changes = changesFromEvents("pending", preview.events);
        const planned: RemediationPlan = { changes, fingerprint: fingerprintChanges(changes) };
        if (!(await decide(planned))) return { plan: planned, applied: false };
        const up = new EventSink();
        try {
          await guarded(ctx, (signal, onEvent) => stack.up({ refresh: true, plan: planFile, onEvent, signal, color: "never" }), up);
        } catch (error) {
          const refusals = planRefusals(up.events);
          if (refusals.length > 0 || isPlanRefusal(errorMessage(error))) throw planViolation(ctx.stack.name, refusals);
          throw error;
        }
        return { plan: planned, applied: true };
      });
    },

    async converge(ctx): Promise<ResourceChange[]> {
      const stack = await guarded(ctx, () => openStack(ctx));
      const up = new EventSink();
      await guarded(ctx, (signal, onEvent) => creatingIfNew(stack, () => stack.up({ refresh: true, signal, color: "never", onEvent })), up);
      // The steps `up` took besides its refresh: the same reading as a preview's.
      return changesFromEvents("pending", up.events);
    },
  };
}
