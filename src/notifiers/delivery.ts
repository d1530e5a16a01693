// Drains the alert outbox: each notifier's entries in order, one at a time, in the background of the run.
// A transient failure stops that notifier's queue where it is (order is kept; the rest waits for the next run, or
// fifteen seconds in a long-running process); a permanent one takes the entry out with its reason, is logged once
// and noted on the run's record. A post that may have landed unconfirmed is looked for before it is sent again
// (DeliveryAttempt), so an alert is posted once however many attempts, in however many processes, it takes.
import type { Logger } from "pino";
import type { Notifier } from "./api.ts";
import type { DeliveryAttempt, DeliveryReceipt } from "../core/alerts.ts";
import { CREDENTIAL_ERROR_CODES, NotifierError } from "./errors.ts";
import type { AlertStore, OutboxEntry } from "../store/api.ts";

export interface DeliveryOptions {
  store: AlertStore;
  notifiers: readonly Notifier[];
  logger: Logger;
}

export interface Delivery {
  /** Starts draining (or drains again once the current pass ends). Never throws, never waits. */
  kick(): void;
  /**
   * Lets the outbox drain for at most `timeoutMs`, then stops: requests in flight are abandoned (their entries stay
   * in the outbox). Returns how many entries are still waiting, per notifier.
   */
  settle(timeoutMs: number): Promise<Record<string, number>>;
}

const BATCH = 50;
/** How soon a process that found another delivering looks at the outbox again. */
const BUSY_RETRY_MS = 2_000;
/** How soon a notifier's queue stopped by a transient failure (an outage) is tried again, at the least. */
const TRANSIENT_RETRY_MS = 15_000;

function asNotifierError(notifier: string, error: unknown): NotifierError {
  if (error instanceof NotifierError) return error;
  // A bug (rendering, a bad payload) must not block the queue forever: the entry is taken out, loudly.
  return new NotifierError(notifier, `could not deliver: ${error instanceof Error ? error.message : String(error)}`, { permanent: true, cause: error });
}

export function createDelivery(options: DeliveryOptions): Delivery {
  const { store, notifiers, logger } = options;
  const reported = new Set<string>();
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  /** Delivers one entry; false when the notifier's queue should stop here. */
  async function deliverOne(notifier: Notifier, entry: OutboxEntry): Promise<boolean> {
    const event = entry.event;
    const about = event.type === "report-digest" ? { report: event.report.id } : { stack: event.subject.stack, runId: event.subject.runId };
    const log = logger.child({ notifier: notifier.id, ...about, alert: event.type, outboxId: entry.id });
    const thread = entry.episodeId === undefined ? undefined : (await store.getEpisode(entry.episodeId))?.slackThread;
    // A write the notifier asks for that fails is the store's problem, not the alert's: it ends this pass (the
    // entry stays as it is, with whatever was recorded) instead of being classified as a delivery failure.
    let storeFailure: { error: unknown } | undefined;
    const write = async (step: () => Promise<void>) => {
      try {
        await step();
      } catch (error) {
        storeFailure = { error };
        throw error;
      }
    };
    const attempt: DeliveryAttempt = {
      key: `${entry.id}@${entry.createdAt}`,
      ...(entry.posted ? { recorded: entry.posted } : entry.postStartedAt ? { unconfirmedSince: entry.postStartedAt } : {}),
      beforePost: () => write(() => store.markAlertPosting(entry.id)),
      recordPost: (message) => write(() => store.recordAlertPost(entry.id, message)),
    };
    let receipt: DeliveryReceipt;
    try {
      receipt = await notifier.deliver(event, thread, attempt);
    } catch (caught) {
      if (storeFailure) throw storeFailure.error;
      const error = asNotifierError(notifier.id, caught);
      if (stopped) return false; // abandoned at the deadline: not a failure of the alert
      if (!error.permanent) {
        // A long-running process does not wait for its next run to try again (the CLI's runs end before this fires).
        retryLater(Math.max(TRANSIENT_RETRY_MS, (error.retryAfterSeconds ?? 0) * 1000));
        await store.markAlertAttempt(entry.id, error.message);
        log.warn({ err: error.message, attempts: entry.attempts + 1, retryAfterSeconds: error.retryAfterSeconds }, "alert not delivered yet; kept in the outbox for the next run");
        return false;
      }
      await store.markAlertFailed(entry.id, error.message);
      if (event.type !== "report-digest") await store.noteRunAlertError(event.subject.runId, `${notifier.id}: ${error.message}`);
      const key = `${notifier.id}:${error.code ?? error.message}`;
      if (!reported.has(key)) {
        reported.add(key);
        log.error({ err: error.message, code: error.code }, "alert cannot be delivered; not retrying it");
      }
      // With unusable credentials every further delivery fails the same way: leave the rest for when they are fixed.
      return !(error.code && CREDENTIAL_ERROR_CODES.has(error.code));
    }
    await store.markAlertDelivered(entry.id, receipt);
    log.debug("alert delivered");
    return true;
  }

  async function drain(notifier: Notifier): Promise<void> {
    const drained = await store.deliveringAlone(notifier.id, async () => {
      while (!stopped) {
        const batch = await store.pendingAlerts(notifier.id, BATCH);
        if (batch.length === 0) return;
        for (const entry of batch) {
          if (stopped || !(await deliverOne(notifier, entry))) return;
        }
      }
    });
    // Another replica is delivering: it may have looked at the outbox just before this one's entries landed.
    if (drained === undefined && !stopped) retryLater(BUSY_RETRY_MS);
  }

  let retryTimer: NodeJS.Timeout | undefined;
  function retryLater(ms: number): void {
    if (retryTimer || stopped) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      kick();
    }, ms);
    retryTimer.unref();
  }

  async function pass(): Promise<void> {
    do {
      again = false;
      await Promise.all(notifiers.map((n) => drain(n).catch((error: unknown) => logger.error({ notifier: n.id, err: String(error) }, "alert delivery failed"))));
    } while (again && !stopped);
  }

  function kick(): void {
    if (stopped || notifiers.length === 0) return;
    if (running) {
      again = true;
      return;
    }
    running = pass().finally(() => {
      running = undefined;
    });
  }

  async function settle(timeoutMs: number): Promise<Record<string, number>> {
    kick();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([running ?? Promise.resolve(), deadline]);
    clearTimeout(timer);
    stopped = true;
    clearTimeout(retryTimer);
    for (const notifier of notifiers) notifier.stop?.();
    const left = Object.fromEntries(await Promise.all(notifiers.map(async (n) => [n.id, (await store.pendingAlerts(n.id, Number.MAX_SAFE_INTEGER)).length] as const)));
    for (const [notifier, count] of Object.entries(left)) {
      if (count > 0) logger.warn({ notifier, pending: count }, "alerts left in the outbox for the next run");
    }
    return left;
  }

  return { kick, settle };
}
