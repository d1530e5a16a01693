// The TCP ports a stack's engine may connect to when its network is limited: HTTPS and HTTP, the ports of the
// endpoints its settings name (a backend, a registry, a local emulator, a proxy), and what the operator adds.
const DEFAULT_PORTS = [443, 80];

const SCHEME_PORTS: Record<string, number> = { "https:": 443, "http:": 80, "ssh:": 22, "git:": 9418, "postgres:": 5432, "postgresql:": 5432 };

/** The port of every URL in `values` (explicit, or the scheme's), in order of appearance. */
export function endpointPorts(values: Iterable<string>): number[] {
  const ports: number[] = [];
  for (const value of values) {
    for (const match of value.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"',;]+/gi)) {
      let url: URL;
      try {
        url = new URL(match[0]);
      } catch {
        continue;
      }
      const port = url.port ? Number(url.port) : SCHEME_PORTS[url.protocol];
      if (port) ports.push(port);
    }
  }
  return ports;
}

/** 443, 80, then the endpoint ports and the operator's, each once. */
export function allowedPorts(endpointValues: Iterable<string>, extra: readonly number[]): number[] {
  return [...new Set([...DEFAULT_PORTS, ...endpointPorts(endpointValues), ...extra])];
}
