/** Human-facing progress of the provisioning: what is being made, and how long it took. */
export interface Progress {
  info(message: string): void;
  /** Runs `work`, announcing it first and reporting its duration after. */
  timed<T>(what: string, work: () => Promise<T>): Promise<T>;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const secs = Math.round((ms % 60_000) / 1000);
  return `${minutes}m${String(secs).padStart(2, "0")}s`;
}

export function streamProgress(stream: NodeJS.WritableStream = process.stderr): Progress {
  const write = (line: string) => stream.write(`[provision] ${line}\n`);
  return {
    info: write,
    async timed(what, work) {
      const started = Date.now();
      write(`${what} ...`);
      const result = await work();
      write(`${what}: done in ${formatDuration(Date.now() - started)}`);
      return result;
    },
  };
}

/** Only what takes long (a build, an install) is said; what is found cached is not (an installed CLI's every run). */
export function buildsOnlyProgress(stream: NodeJS.WritableStream = process.stderr): Progress {
  return { info: () => {}, timed: streamProgress(stream).timed };
}

export const silentProgress: Progress = {
  info: () => {},
  timed: (_what, work) => work(),
};
