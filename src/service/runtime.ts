// How the service process is best run: a small young generation (the service allocates little once it runs, and
// V8's default 16 MB semi-spaces stay resident) and two glibc malloc arenas instead of one per thread. `npm start`,
// the deployment's systemd unit and the memory benchmark all start `serve` with these.
export const SERVICE_NODE_OPTIONS = "--max-semi-space-size=2";

/** `env` with the service's runtime settings added (keeping any NODE_OPTIONS already there). */
export function serviceRuntimeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const options = env.NODE_OPTIONS ?? "";
  return {
    ...env,
    NODE_OPTIONS: options.includes("--max-semi-space-size") ? options : `${options} ${SERVICE_NODE_OPTIONS}`.trim(),
    MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? "2",
  };
}
