// Alerts in the run pipeline: after a run is recorded, its alert transition is planned, redacted and written with
// its outbox entries in one transaction, and delivery is kicked off in the background. The run never waits for a
// notifier; at the end of all runs, `finish` gives delivery a bounded time and leaves the rest in the outbox.
import type { Logger } from "pino";
import type { DriftwatchConfig, StackConfig } from "../config/types.ts";
import type { StackResult } from "../core/types.ts";
import type { Notifier } from "../notifiers/api.ts";
import type { AlertEvent } from "../core/alerts.ts";
import { createDelivery } from "../notifiers/delivery.ts";
import { compileRedaction, redactEvent } from "../notifiers/redaction.ts";
import type { Store } from "../store/api.ts";
import { planAlerts } from "./alert-plan.ts";

export interface Alerting {
  /** Records the alert consequences of a recorded run. Never throws: an alerting problem is logged, the run stands. */
  afterRun(stack: StackConfig, result: StackResult): Promise<void>;
  /** One event outside the episode flow (an approval request), through the outbox like every alert. Never throws. */
  notify(stack: StackConfig, event: AlertEvent): Promise<void>;
  /** Waits (bounded by alerts.deliveryTimeoutSeconds) for the outbox to drain. */
  finish(): Promise<void>;
  /** The notifiers alerts go to, by id. */
  readonly notifiers: readonly string[];
  /** Masks an event for the outbox as every alert is (configured patterns, showValuesOf). */
  redact<E extends AlertEvent>(event: E): E;
  /** Delivers what waits in the outbox, in the background. */
  kick(): void;
}

export function createAlerting(config: DriftwatchConfig, store: Store, notifiers: readonly Notifier[], logger: Logger): Alerting {
  const redaction = compileRedaction(config.alerts.redact);
  const delivery = createDelivery({ store, notifiers, logger });
  const ids = notifiers.map((n) => n.id);
  // Entries left by an earlier run go out first, alongside this run's checks.
  delivery.kick();

  return {
    async afterRun(stack, result) {
      try {
        const plan = planAlerts({
          stack,
          result,
          open: await store.openEpisode(stack.name),
          failure: await store.failureAlertState(stack.name),
          failureRepeatMs: config.alerts.failureRepeatMs,
        });
        if (plan) await store.applyAlertTransition({ ...plan, events: plan.events.map((e) => redactEvent(e, redaction)), notifiers: ids });
        // Also without new alerts: whatever an outage left in the outbox goes out at the next occasion.
        delivery.kick();
      } catch (error) {
        logger.error({ stack: stack.name, runId: result.runId, err: error instanceof Error ? error.message : String(error) }, "could not record the run's alerts");
      }
    },

    async notify(stack, event) {
      if (stack.alerts.mute) return;
      try {
        await store.applyAlertTransition({ stack: stack.name, events: [redactEvent(event, redaction)], notifiers: ids });
        delivery.kick();
      } catch (error) {
        logger.error({ stack: stack.name, err: error instanceof Error ? error.message : String(error) }, "could not record the alert");
      }
    },

    async finish() {
      await delivery.settle(config.alerts.deliveryTimeoutMs);
    },

    notifiers: ids,

    redact(event) {
      return redactEvent(event, redaction) as typeof event;
    },

    kick() {
      delivery.kick();
    },
  };
}
