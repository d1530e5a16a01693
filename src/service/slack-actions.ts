// What a press of one of Driftwatch's Slack buttons does, once the HTTP side has checked Slack's signature and
// answered within Slack's three seconds (src/server/app.ts). Every action names its record (an approval, an
// episode) by id; the record says which stack it is about, and that stack's configuration says who may act:
//
//   approve / reject  → the stack's `approvers` only (user ids, or members of user groups)
//   re-check, snooze, acknowledge → anyone in the channel, unless `actions.restrict` (then approvers only)
//   show the ignore rule → anyone (it only shows what the message already suggests)
//
// Someone not allowed gets an ephemeral "not allowed" and nothing happens. What is done is in the audit log with
// the person's Slack id and name. A press on a message that is out of date (the episode resolved, the approval
// decided) does nothing and says why; two presses of one button do the thing once (the approval path settles an
// approval once across replicas, an acknowledgement is kept first come).
import type { Logger } from "pino";
import type { DriftwatchConfig, StackConfig } from "../config/types.ts";
import { ApprovalError, errorMessage } from "../core/errors.ts";
import { ignoreRulesYaml, suggestedIgnoreRules } from "../core/flapping.ts";
import type { StackResult } from "../core/types.ts";
import type { AlertEvent, Person } from "../core/alerts.ts";
import { ACTION, parseApprovalId, parseEpisodeId, parseSnoozeOption } from "../notifiers/slack/actions.ts";
import type { SlackAction } from "../notifiers/slack/interaction.ts";
import { codeBlock, mrkdwnText, personText, renderNote, slackDate, withOutcome, type SlackMessage } from "../notifiers/slack/render.ts";
import { alertableChanges, infoOf, subjectOf } from "../run/alert-plan.ts";
import type { TriggerOutcome } from "../scheduler/scheduler.ts";
import type { ApprovalRecord, AuditEntry, EpisodeRecord, PersonAction, Store } from "../store/api.ts";
import { ApproverCheck, type GroupDirectory } from "./slack-approvers.ts";

/** The Slack calls the actions make: updating the pressed message, answering the person who pressed. */
export interface SlackActionsTransport extends GroupDirectory {
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
  postEphemeral(channel: string, user: string, message: SlackMessage, threadTs?: string): Promise<void>;
}

export interface SlackActionsDependencies {
  config: DriftwatchConfig;
  store: Store;
  slack: SlackActionsTransport;
  /** Queues a check, coalesced like any trigger. */
  trigger(stack: string, reason: "slack"): TriggerOutcome | Promise<TriggerOutcome>;
  /** `driftwatch approve`: a fresh plan, the same fingerprint, every guard again. Throws ApprovalError. */
  approve(approvalId: string, approver: string): Promise<StackResult>;
  /** Voids a waiting approval as rejected. Throws ApprovalError. */
  reject(approvalId: string, by: string): Promise<ApprovalRecord>;
  /** Puts an alert in the outbox (the episode's root message updated), masked like every alert. */
  notify(stack: StackConfig, event: AlertEvent): Promise<void>;
  logger: Logger;
  now?: () => Date;
}

export interface SlackActions {
  /** Carries out one press. Never throws: a failure is logged and told to the person who pressed. */
  handle(action: SlackAction): Promise<void>;
  /** Resolves once no press is being carried out (the service waits for this before closing the store). */
  idle(): Promise<void>;
}

/** How a person is named in the audit log and on approvals: their Slack name and id. */
export function actorOf(person: Person): string {
  return `${person.name} (Slack ${person.id})`;
}

export function createSlackActions(deps: SlackActionsDependencies): SlackActions {
  const { config, store, slack } = deps;
  const now = deps.now ?? (() => new Date());
  const stacks = new Map(config.stacks.map((s) => [s.name, s]));
  const approvers = new ApproverCheck(slack);

  /** An answer only the person who pressed sees, where they pressed. */
  async function tell(action: SlackAction, text: string): Promise<void> {
    try {
      await slack.postEphemeral(action.channel, action.user.id, renderNote(text), action.threadTs);
    } catch (error) {
      deps.logger.warn({ slackUser: action.user.id, action: action.actionId, err: errorMessage(error) }, "could not answer a Slack press");
    }
  }

  /** The pressed message, its buttons taken off and what happened added. */
  async function settleMessage(action: SlackAction, outcome: string): Promise<void> {
    try {
      await slack.update(action.channel, action.messageTs, withOutcome(action.message, outcome));
    } catch (error) {
      deps.logger.warn({ slackUser: action.user.id, action: action.actionId, err: errorMessage(error) }, "could not update the Slack message that was pressed");
    }
  }

  /** Whether the person may do `what` on `stack`; if not, tells them why and logs it. */
  async function allowed(action: SlackAction, stack: StackConfig, what: string, approversOnly: boolean): Promise<boolean> {
    if (!approversOnly) return true;
    const log = deps.logger.child({ stack: stack.name, slackUser: action.user.id, action: action.actionId });
    if (stack.approvers.length === 0) {
      log.warn("refused a Slack press: the stack names no approvers");
      await tell(action, `🚫 Nobody may ${what} for stack *${mrkdwnText(stack.name)}* from Slack: its configuration names no \`approvers\`. Nothing was done.`);
      return false;
    }
    const verdict = await approvers.allows(stack.approvers, action.user.id);
    if (verdict.allowed) return true;
    log.warn({ problems: verdict.problems }, "refused a Slack press: not among the stack's approvers");
    const problems = verdict.problems.length > 0 ? ` (${mrkdwnText(verdict.problems.join("; "), 600)})` : "";
    await tell(action, `🚫 You are not allowed to ${what} for stack *${mrkdwnText(stack.name)}*: you are not among its approvers${problems}. Nothing was done.`);
    return false;
  }

  async function audit(stack: StackConfig, episode: EpisodeRecord, by: Person, decision: PersonAction, reason: string): Promise<void> {
    const entry: AuditEntry = {
      at: now().toISOString(),
      stack: stack.name,
      runId: episode.lastRunId,
      triggeredBy: "slack",
      actor: actorOf(by),
      mode: stack.remediation.mode,
      guards: [],
      decision,
      reason,
      durationMs: 0,
    };
    await store.appendAudit(entry);
  }

  // --- approvals ---------------------------------------------------------------------------------------------------

  /** The approval a press names, with its stack; undefined (after telling the person why) when there is none. */
  async function approvalOf(action: SlackAction): Promise<{ approval: ApprovalRecord; stack: StackConfig } | undefined> {
    const id = parseApprovalId(action.value);
    const approval = id ? await store.getApproval(id) : undefined;
    if (!approval) {
      await tell(action, "This approval is not known to Driftwatch. Nothing was done.");
      return undefined;
    }
    const stack = stacks.get(approval.stack);
    if (!stack) {
      await tell(action, `Stack *${mrkdwnText(approval.stack)}* is not configured any more. Nothing was done.`);
      return undefined;
    }
    return { approval, stack };
  }

  /** A press on an approval that is decided already: says so, and takes the buttons off a request that died unanswered. */
  async function notPending(action: SlackAction, approval: ApprovalRecord): Promise<void> {
    const why = approval.reason ? `: ${mrkdwnText(approval.reason)}` : "";
    await tell(action, `Approval \`${approval.id}\` is ${approval.state} already${why}. Nothing was done.`);
    // Applied, refused or failed: the press that decided it writes the outcome on the message itself.
    if (approval.state === "void" || approval.state === "expired") await settleMessage(action, `_This approval is ${approval.state}${why}._`);
  }

  /** The approval a press names, when the person may decide `what` and it still waits; otherwise says why. */
  async function pendingApprovalFor(action: SlackAction, what: string): Promise<{ approval: ApprovalRecord; stack: StackConfig } | undefined> {
    const found = await approvalOf(action);
    if (!found || !(await allowed(action, found.stack, what, true))) return undefined;
    if (found.approval.state === "pending") return found;
    await notPending(action, found.approval);
    return undefined;
  }

  /** Deciding failed (ApprovalError): decided meanwhile by someone else, or not decidable; says which. */
  async function notDecided(action: SlackAction, approval: ApprovalRecord, error: unknown, verb: "applied" | "rejected"): Promise<void> {
    if (!(error instanceof ApprovalError)) throw error;
    const current = await store.getApproval(approval.id);
    if (current && current.state !== "pending") return notPending(action, current);
    return tell(action, `Not ${verb}: ${mrkdwnText(error.message)}`);
  }

  async function approvePressed(action: SlackAction): Promise<void> {
    const found = await pendingApprovalFor(action, "approve plans");
    if (!found) return;
    const { approval, stack } = found;
    const by = personText(action.user);
    await tell(action, `Approved. Driftwatch plans stack *${mrkdwnText(stack.name)}* again and applies the plan only if it is still the one shown, within every guard.`);
    const at = slackDate(now().toISOString());
    let result: StackResult;
    try {
      result = await deps.approve(approval.id, actorOf(action.user));
    } catch (error) {
      return notDecided(action, approval, error, "applied");
    }
    const remediation = result.remediation;
    if (!remediation || remediation.decision === "busy") {
      // Another press (here or on another replica) is applying this approval: it writes the outcome.
      return tell(action, `Not applied by this press: ${mrkdwnText(remediation?.reason ?? "another remediation of the stack is in progress")}`);
    }
    const reason = mrkdwnText(remediation.reason, 1500);
    const outcome: Record<string, string> = {
      applied: `✅ Approved by ${by} ${at} and applied: stack *${mrkdwnText(stack.name)}* is ${result.verdict === "in-sync" ? "back in sync" : `still ${mrkdwnText(result.verdict)}`} (run \`${mrkdwnText(result.runId)}\`).`,
      noop: `✅ Approved by ${by} ${at}: nothing to apply, the stack converged since the plan was made.`,
      failed: `❌ Approved by ${by} ${at}, but the apply failed: ${reason}`,
    };
    await settleMessage(action, outcome[remediation.decision] ?? `⛔ Approved by ${by} ${at}, not applied: ${reason}`);
  }

  async function rejectPressed(action: SlackAction): Promise<void> {
    const found = await pendingApprovalFor(action, "reject plans");
    if (!found) return;
    try {
      await deps.reject(found.approval.id, actorOf(action.user));
    } catch (error) {
      return notDecided(action, found.approval, error, "rejected");
    }
    await settleMessage(action, `🚫 Rejected by ${personText(action.user)} ${slackDate(now().toISOString())}: the plan is not applied, nor asked for again while the drift stays the same.`);
  }

  // --- episodes ----------------------------------------------------------------------------------------------------

  /** The open episode a press names, with its stack; undefined (after telling the person why) otherwise. */
  async function openEpisodeOf(action: SlackAction, id: number | undefined): Promise<{ episode: EpisodeRecord; stack: StackConfig } | undefined> {
    const episode = id === undefined ? undefined : await store.getEpisode(id);
    const stack = episode ? stacks.get(episode.stack) : undefined;
    if (!episode || !stack) {
      await tell(action, "This drift episode is not known to Driftwatch (or its stack is not configured any more). Nothing was done.");
      return undefined;
    }
    if (episode.closedAt) {
      await tell(action, `This drift episode of stack *${mrkdwnText(stack.name)}* is resolved (${slackDate(episode.closedAt)}). Nothing was done.`);
      return undefined;
    }
    return { episode, stack };
  }

  /** The root message says who acknowledged or snoozed: an update through the outbox, in order with the others. */
  async function noteOnRoot(stack: StackConfig, episode: EpisodeRecord, note: "acknowledged" | "snoozed", by: Person): Promise<void> {
    // The run an episode last saw is recorded before the episode is updated, and runs are never pruned.
    const run = await store.getRun(episode.lastRunId);
    if (!run) throw new Error(`run ${episode.lastRunId}, the last of episode ${episode.id}, is not recorded`);
    await deps.notify(stack, {
      type: "episode-noted",
      note,
      by,
      subject: subjectOf(stack, run, alertableChanges(stack, run.changes)),
      episode: { ...infoOf(episode, now().toISOString()), id: episode.id },
      changes: episode.changes,
      ...(episode.flapping ? { flapping: episode.flapping } : {}),
    });
  }

  async function recheckPressed(action: SlackAction): Promise<void> {
    const found = await openEpisodeOf(action, parseEpisodeId(action.value));
    if (!found) return;
    const { episode, stack } = found;
    if (!(await allowed(action, stack, "re-check", stack.actions.restrict))) return;
    const outcome = await deps.trigger(stack.name, "slack");
    const said: Partial<Record<TriggerOutcome, string>> = {
      queued: `A check of stack *${mrkdwnText(stack.name)}* is queued; this thread hears of it if the drift changes or resolves.`,
      coalesced: `A check of stack *${mrkdwnText(stack.name)}* is already queued or running; this press joins it.`,
      skipped: `A check of stack *${mrkdwnText(stack.name)}* is already queued or running; this press joins it.`,
      stopping: "Driftwatch is stopping; the check was not queued. Try again in a moment.",
      unavailable: "The check could not be queued: Driftwatch's database did not answer. Try again in a moment.",
    };
    if (outcome === "queued" || outcome === "coalesced" || outcome === "skipped") await audit(stack, episode, action.user, "recheck-requested", `a check was ${outcome === "queued" ? "queued" : "already queued or running"}`);
    await tell(action, said[outcome] ?? `The check was not queued (${outcome}).`);
  }

  async function acknowledgePressed(action: SlackAction): Promise<void> {
    const found = await openEpisodeOf(action, parseEpisodeId(action.value));
    if (!found) return;
    const { stack } = found;
    if (!(await allowed(action, stack, "acknowledge drift", stack.actions.restrict))) return;
    const marked = await store.acknowledgeEpisode(found.episode.id, { by: action.user, at: now().toISOString() });
    if (!marked) return tell(action, `This drift episode of stack *${mrkdwnText(stack.name)}* is resolved. Nothing was done.`);
    if (marked.already) return tell(action, `${personText(marked.already.by)} acknowledged this drift already (${slackDate(marked.already.at)}).`);
    await audit(stack, marked.episode, action.user, "acknowledged", "acknowledged the drift episode from Slack");
    await noteOnRoot(stack, marked.episode, "acknowledged", action.user);
  }

  async function snoozePressed(action: SlackAction): Promise<void> {
    const option = parseSnoozeOption(action.value);
    const found = await openEpisodeOf(action, option?.episodeId);
    if (!found || !option) return;
    const { stack } = found;
    if (!(await allowed(action, stack, "snooze drift", stack.actions.restrict))) return;
    const at = now();
    const until = new Date(at.getTime() + option.ms).toISOString();
    const snoozed = await store.snoozeEpisode(found.episode.id, { by: action.user, at: at.toISOString(), until });
    if (!snoozed) return tell(action, `This drift episode of stack *${mrkdwnText(stack.name)}* is resolved. Nothing was done.`);
    await audit(stack, snoozed, action.user, "snoozed", `snoozed the drift episode for ${option.label}, until ${until} (or until the drift changes)`);
    await noteOnRoot(stack, snoozed, "snoozed", action.user);
  }

  async function ignoreRulePressed(action: SlackAction): Promise<void> {
    const id = parseEpisodeId(action.value);
    const episode = id === undefined ? undefined : await store.getEpisode(id);
    const stack = episode ? stacks.get(episode.stack) : undefined;
    const rules = episode?.flapping ? suggestedIgnoreRules(episode.flapping) : [];
    if (!episode || !stack || rules.length === 0) return tell(action, "There is no ignore rule to suggest for this episode.");
    const where = `In \`${mrkdwnText(config.file, 300)}\`, under the stack named \`${mrkdwnText(stack.name)}\` (its \`ignore:\` list; create it if there is none):`;
    await tell(action, `${where}\n${codeBlock(ignoreRulesYaml(rules))}\nIgnored properties are never drift, never pending, and never put back by remediation.`);
  }

  const handlers: Record<string, (action: SlackAction) => Promise<void>> = {
    [ACTION.approve]: approvePressed,
    [ACTION.reject]: rejectPressed,
    [ACTION.recheck]: recheckPressed,
    [ACTION.acknowledge]: acknowledgePressed,
    [ACTION.snooze]: snoozePressed,
    [ACTION.ignoreRule]: ignoreRulePressed,
  };

  const inFlight = new Set<Promise<void>>();

  async function carryOut(action: SlackAction): Promise<void> {
    const handler = handlers[action.actionId];
    const log = deps.logger.child({ slackUser: action.user.id, slackUserName: action.user.name, action: action.actionId });
    if (!handler) {
      log.warn("a Slack press of a button Driftwatch does not know; ignored");
      return;
    }
    try {
      log.info("Slack press");
      await handler(action);
    } catch (error) {
      log.error({ err: errorMessage(error) }, "a Slack press could not be carried out");
      await tell(action, "Driftwatch could not finish that (the service's log says why); look at the thread or the dashboard before trying again.");
    }
  }

  return {
    handle(action) {
      const done = carryOut(action);
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
      return done;
    },
    async idle() {
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
  };
}
