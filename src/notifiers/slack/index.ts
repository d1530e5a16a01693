// The Slack notifier: one thread per drift episode. The root message is posted when the episode opens and then
// only ever updated in place; what changed, and the resolution, are replies in its thread. Failures to check a
// stack are separate, unthreaded messages (rate-limited by the pipeline).
import type { Logger } from "pino";
import type { AlertsConfig, SlackSettings, StackConfig } from "../../config/types.ts";
import type { AlertEvent, DeliveryReceipt, Notifier, SlackThread } from "../api.ts";
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
      loaded = new SlackTransport({
        token: settings.token,
        ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
        timeoutMs: settings.timeoutMs,
        retries: settings.retries,
        maxRateLimitWaitMs: settings.maxRateLimitWaitMs,
        logger: options.logger.child({ notifier: "slack" }),
      });
      if (stopped) loaded.stop();
    }
    return loaded;
  };
  const channels = new Map(options.stacks.map((s) => [s.name, s.alerts.channel ?? settings.channel]));
  const channelOf = (stack: string) => channels.get(stack) ?? settings.channel;
  const base: RenderOptions = options.alerts.dashboardUrl ? { dashboardUrl: options.alerts.dashboardUrl } : {};
  const withMention: RenderOptions = settings.mentionUserGroup ? { ...base, mention: `<!subteam^${settings.mentionUserGroup}>` } : base;

  /** A new root message; for an episode that has none yet (opened before Slack was configured) as well. */
  async function postRoot(stack: string, message: SlackMessage): Promise<SlackThread> {
    return (await transportPromise()).postMessage(channelOf(stack), message);
  }

  return {
    id: "slack",

    async deliver(event: AlertEvent, thread: SlackThread | undefined): Promise<DeliveryReceipt> {
      const transport = await transportPromise();
      if (event.type === "report-digest") {
        await transport.postMessage(event.report.channel ?? settings.channel, renderReportDigest(event, base));
        return {};
      }
      const stack = event.subject.stack;
      switch (event.type) {
        case "run-failed":
          await transport.postMessage(channelOf(stack), renderRunFailed(event, base));
          return {};
        case "approval-requested":
        case "remediation-needs-attention": {
          // In the episode's thread when there is one; never a new root (that would start a second thread).
          const render = (options: RenderOptions) => (event.type === "approval-requested" ? renderApprovalRequested(event, options) : renderNeedsAttention(event, options));
          if (thread) await transport.postMessage(thread.channel, render(base), thread.ts);
          else await transport.postMessage(channelOf(stack), render(withMention));
          return {};
        }
        case "episode-opened":
          return { thread: await postRoot(stack, renderRoot(event, withMention)) };
        case "episode-unchanged":
        case "episode-changed":
        case "episode-resolved": {
          const root = renderRoot(event, base);
          if (!thread) return { thread: await postRoot(stack, root) };
          // The root first: updating it again is harmless, so a retry after a failed reply never posts the reply twice.
          await transport.update(thread.channel, thread.ts, root);
          if (event.type !== "episode-unchanged") await transport.postMessage(thread.channel, renderReply(event, base), thread.ts);
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
