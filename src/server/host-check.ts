// Which names a request may give in its Host header: the defence against DNS rebinding. A page an attacker serves
// from a name they control can make that name resolve to this server's address (even 127.0.0.1); the browser then
// treats the dashboard and the API as the attacker's own origin and lets the page read them. The browser still sends
// the attacker's name in Host, so a server that answers only to its own names is out of reach.
//
// Always accepted, because they cannot be rebound: IP literals (there is no name to re-resolve; this is also what
// load balancers' and kubelets' health checks send, e.g. Host: 10.1.2.3:8080) and localhost and *.localhost (RFC
// 6761: browsers keep them on loopback). Added to those: the name the server listens on (when it is a name), the
// host of alerts.dashboardUrl, and service.http.allowedHosts. The port is not compared: rebinding changes what a
// name resolves to, not the port the browser connects to, and a reverse proxy may forward Host with its own port.
import { isIP } from "node:net";
import { isHostAllowed } from "host-validation-middleware";
import type { AlertsConfig, ServiceConfig } from "../config/types.ts";

/** The host names (".example.com": it and its subdomains) a request may name besides IP literals and localhost. */
export function allowedHostNames(http: Pick<ServiceConfig["http"], "host" | "allowedHosts">, alerts: Pick<AlertsConfig, "dashboardUrl">): string[] {
  const names = new Set(http.allowedHosts);
  // 0.0.0.0, :: or an address: nothing to add (IP literals are accepted anyway).
  if (isIP(http.host) === 0) names.add(http.host.toLowerCase());
  if (alerts.dashboardUrl) names.add(new URL(alerts.dashboardUrl).hostname);
  // Not frozen on purpose: the library remembers every accepted Host of a frozen list, and any IP literal with any
  // port is accepted, so that memory would grow with whatever clients send.
  return [...names];
}

/** Whether a request whose Host header is `host` may be answered. */
export function hostAllowed(host: string | undefined, names: readonly string[]): boolean {
  return isHostAllowed(host?.toLowerCase(), names);
}
