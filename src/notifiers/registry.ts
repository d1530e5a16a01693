// The notifier plug-ins: a plain map from id to factory (their interface is api.ts). No import-time work.
import { createLogNotifier } from "./log/index.ts";
import { createSlackNotifier } from "./slack/index.ts";
import type { Notifier, NotifierDependencies } from "./api.ts";

/** The notifier plug-ins: a plain map from id to factory; undefined when the configuration does not enable it. */
export const notifierFactories: Record<Notifier["id"], (deps: NotifierDependencies) => Notifier | undefined> = {
  log: (deps) => (deps.alerts.log ? createLogNotifier(deps.logger) : undefined),
  slack: (deps) => (deps.alerts.slack ? createSlackNotifier({ settings: deps.alerts.slack, alerts: deps.alerts, stacks: deps.stacks, logger: deps.logger }) : undefined),
};

/** The notifiers the configuration enables. */
export function createNotifiers(deps: NotifierDependencies): Notifier[] {
  return Object.values(notifierFactories).flatMap((factory) => factory(deps) ?? []);
}
