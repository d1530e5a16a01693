// The notifiers: what delivers the pipeline's alert events (core/alerts.ts) to people. Which events exist (and that
// an unchanged drift is never posted twice) is decided by the pipeline and the store (src/run/alerts.ts); a
// notifier only turns an event into messages and sends them. The plug-ins' map is registry.ts.
import type { Logger } from "pino";
import type { AlertsConfig, StackConfig } from "../config/types.ts";
import type { AlertEvent, DeliveryAttempt, DeliveryReceipt, SlackThread } from "../core/alerts.ts";

/** Delivery failed; `permanent` failures (invalid_auth, channel_not_found, ...) are never retried. */
export interface Notifier {
  readonly id: "slack" | "log";
  /**
   * Delivers one event. `thread` is the episode's thread when one exists. Throws NotifierError on failure
   * (src/notifiers/errors.ts), marked permanent or transient.
   */
  deliver(event: AlertEvent, thread: SlackThread | undefined, attempt: DeliveryAttempt): Promise<DeliveryReceipt>;
  /** Gives up on requests in flight (the run is over; what was not confirmed stays in the outbox). */
  stop?(): void;
}

/** What notifier factories get. */
export interface NotifierDependencies {
  alerts: AlertsConfig;
  stacks: readonly StackConfig[];
  logger: Logger;
}
