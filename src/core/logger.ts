import { createRequire } from "node:module";
import { pino, type Logger } from "pino";
import type PinoPretty from "pino-pretty";

export interface LoggerOptions {
  level?: string;
  /** Human-readable lines (a TTY); JSON lines otherwise. */
  pretty?: boolean;
  /** Where log lines go; stderr by default so stdout stays the command's output. */
  destination?: NodeJS.WritableStream;
}

/** The root logger. Everything below takes a child of it carrying stack name and run id. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.DRIFTWATCH_LOG_LEVEL ?? "info";
  const usePretty = options.pretty ?? Boolean(((options.destination ?? process.stderr) as { isTTY?: boolean }).isTTY);
  if (usePretty) {
    // Loaded only for a terminal: a service logging JSON lines never carries it.
    const pretty = createRequire(import.meta.url)("pino-pretty") as typeof PinoPretty;
    return pino({ level }, pretty({ destination: options.destination ?? 2, sync: true, ignore: "pid,hostname", translateTime: "HH:MM:ss" }));
  }
  return pino({ level, base: undefined }, options.destination ?? pino.destination({ dest: 2, sync: true }));
}
