// How the service process is best run. V8 flags: a small young generation (the service allocates little once it
// runs, and V8's default 16 MB semi-spaces stay resident) and V8's size-over-speed mode (smaller heap and code;
// the service waits on engines and the network, not on JavaScript). Environment: two glibc malloc arenas instead
// of one per thread, and a fixed trim threshold (128 KiB), so that glibc gives freed memory back to the system
// instead of raising the threshold after large frees (reading a configuration of 10,000 stacks leaves about 30 MB
// that it would otherwise keep). `npm start`, the deployment's systemd unit and the memory benchmark start `serve` with these.
// The flags go on the command line: NODE_OPTIONS does not accept --optimize-for-size.
export const SERVICE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=2", "--optimize-for-size"];

export const SERVICE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2", MALLOC_TRIM_THRESHOLD_: "131072" };

/** `env` with the service's environment settings added, where it does not set them itself. */
export function serviceRuntimeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...SERVICE_ENV, ...env };
}
