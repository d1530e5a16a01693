import { createRequire } from "node:module";
import { pino, type Logger, type LoggerOptions as LoggerOptions_ } from "pino";
import type PinoPretty from "pino-pretty";
import type { SecretMasker } from "./redact.ts";

export interface LoggerOptions {
  level?: string;
  /** Human-readable lines (a TTY); JSON lines otherwise. */
  pretty?: boolean;
  /** Where log lines go; stderr by default so stdout stays the command's output. */
  destination?: NodeJS.WritableStream;
  /** Masks every secret in every line (its message and its fields); see core/redact.ts. */
  masker?: SecretMasker;
}

/** Fields that say which stack and run a line is about: kept as they are, even should a secret equal a stack name. */
const LOG_IDENTITY = new Set(["stack", "runId", "trigger", "component", "engine", "verdict", "step"]);

/** Pino options that pass each line's fields and message through the masker. */
function maskingOptions(masker: SecretMasker | undefined): Pick<LoggerOptions_, "formatters" | "hooks"> {
  if (!masker) return {};
  return {
    formatters: { log: (fields) => masker.value(fields, (path) => path.length === 1 && LOG_IDENTITY.has(path[0]!)) },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === "string" ? masker.text(arg) : arg)) as Parameters<typeof method>);
      },
    },
  };
}

/** The root logger. Everything below takes a child of it carrying stack name and run id. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.DRIFTWATCH_LOG_LEVEL ?? "info";
  const usePretty = options.pretty ?? Boolean(((options.destination ?? process.stderr) as { isTTY?: boolean }).isTTY);
  if (usePretty) {
    // Loaded only for a terminal: a service logging JSON lines never carries it.
    const pretty = createRequire(import.meta.url)("pino-pretty") as typeof PinoPretty;
    return pino({ level, ...maskingOptions(options.masker) }, pretty({ destination: options.destination ?? 2, sync: true, ignore: "pid,hostname", translateTime: "HH:MM:ss" }));
  }
  return pino({ level, base: undefined, ...maskingOptions(options.masker) }, options.destination ?? pino.destination({ dest: 2, sync: true }));
}
