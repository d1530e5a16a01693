// The Slack notifier: one thread per drift episode. The root message is posted when the episode opens and then
// only ever updated in place; what changed, and the resolution, are replies in its thread. Failures to check a
// stack are separate, unthreaded messages (rate-limited by the pipeline).
import type { Logger } from "pino";
import type { AlertsConfig, SlackSettings, StackConfig } from "../../config/types.ts";
import type { Notifier } from "../api.ts";
import type { AlertEvent, DeliveryAttempt, DeliveryReceipt, SlackThread } from "../../core/alerts.ts";
import { NotifierError } from "../errors.ts";
import type { SlackTransport } from "./client.ts";
import { renderApprovalRequested, renderNeedsAttention, renderReply, renderReportDigest, renderRoot, renderRunFailed, type RenderOptions, type SlackMessage } from "./render.ts";

export interface SlackNotifierOptions {
  settings: SlackSettings;
  alerts: Pick<AlertsConfig, "dashboardUrl">;
  stacks: readonly StackConfig[];
  logger: Logger;
}

export function createSlackNotifier(options: SlackNotifierOptions): Notifier {
  const { settings } = options;
  // The Slack client is loaded with the first alert: a service that never alerts does not carry it.
  let loaded: SlackTransport | undefined;
  let stopped = false;
  const transportPromise = async (): Promise<SlackTransport> => {
    if (!loaded) {
      const { SlackTransport } = await import("./client.ts");
      loaded = SlackTransport.fromSettings(settings, options.logger.child({ notifier: "slack" }));
      if (stopped) loaded.stop();
    }
    return loaded;
  };
  const channels = new Map(options.stacks.map((s) => [s.name, s.alerts.channel ?? settings.channel]));
  const channelOf = (stack: string) => channels.get(stack) ?? settings.channel;
  // Buttons only when the service can take their presses (a signing secret to verify them with).
  const base: RenderOptions = {
    ...(options.alerts.dashboardUrl ? { dashboardUrl: options.alerts.dashboardUrl } : {}),
    ...(settings.signingSecret ? { interactive: true } : {}),
  };
  const withMention: RenderOptions = settings.mentionUserGroup ? { ...base, mention: `<!subteam^${settings.mentionUserGroup}>` } : base;

  /**
   * Posts the event's one new message, once across attempts: not again when an earlier attempt recorded it, and
   * only after looking for it when an earlier attempt may have posted it without recording it (it died, or the
   * answer never came).
   */
  async function postOnce(transport: SlackTransport, attempt: DeliveryAttempt, channel: string, message: SlackMessage, threadTs?: string): Promise<SlackThread> {
    if (attempt.recorded) return attempt.recorded;
    if (attempt.unconfirmedSince) {
      const found = await lookFor(transport, attempt, channel, threadTs);
      if (found) {
        await attempt.recordPost(found);
        return found;
      }
    }
    await attempt.beforePost();
    const posted = await transport.postMessage(channel, message, threadTs, attempt.key);
    await attempt.recordPost(posted);
    return posted;
  }

  async function lookFor(transport: SlackTransport, attempt: DeliveryAttempt, channel: string, threadTs: string | undefined): Promise<SlackThread | undefined> {
    try {
      return await transport.findPosted(channel, attempt.key, { since: new Date(attempt.unconfirmedSince!), ...(threadTs ? { threadTs } : {}) });
    } catch (error) {
      // Without the scopes to read the channel, losing the alert would be worse than a rare second message.
      if (!(error instanceof NotifierError) || !error.permanent) throw error;
      options.logger.warn({ notifier: "slack", channel, err: error.message }, "could not check whether an interrupted delivery already posted; posting (it may show twice)");
      return undefined;
    }
  }

  return {
    id: "slack",

    async deliver(event: AlertEvent, thread: SlackThread | undefined, attempt: DeliveryAttempt): Promise<DeliveryReceipt> {
      const transport = await transportPromise();
      const post = (channel: string, message: SlackMessage, threadTs?: string) => postOnce(transport, attempt, channel, message, threadTs);
      if (event.type === "report-digest") {
        await post(event.report.channel ?? settings.channel, renderReportDigest(event, base));
        return {};
      }
      const stack = event.subject.stack;
      switch (event.type) {
        case "run-failed":
          await post(channelOf(stack), renderRunFailed(event, base));
          return {};
        case "approval-requested":
        case "remediation-needs-attention": {
          // In the episode's thread when there is one; never a new root (that would start a second thread).
          const render = (options: RenderOptions) => (event.type === "approval-requested" ? renderApprovalRequested(event, options) : renderNeedsAttention(event, options));
          if (thread) await post(thread.channel, render(base), thread.ts);
          else await post(channelOf(stack), render(withMention));
          return {};
        }
        case "episode-opened":
          return { thread: await post(channelOf(stack), renderRoot(event, withMention)) };
        case "episode-unchanged":
        case "episode-noted":
        case "episode-changed":
        case "episode-resolved": {
          // A new root for an episode that has none yet (opened before Slack was configured).
          const root = renderRoot(event, base);
          if (!thread) return { thread: await post(channelOf(stack), root) };
          // The root first: updating it again is harmless, so a retry after a failed reply never posts the reply twice.
          await transport.update(thread.channel, thread.ts, root);
          if (event.type === "episode-changed" || event.type === "episode-resolved") await post(thread.channel, renderReply(event, base), thread.ts);
          return {};
        }
      }
    },

    stop(): void {
      stopped = true;
      loaded?.stop();
    },
  };
}
