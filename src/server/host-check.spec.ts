// Which Host a request may name: IP literals and localhost always, names only when configured.
import { describe, expect, it } from "vitest";
import { allowedHostNames, hostAllowed } from "./host-check.ts";

describe("host check", () => {
  it("adds the name the server listens on and the dashboard URL's host to the configured names", () => {
    expect(allowedHostNames({ host: "0.0.0.0", allowedHosts: [] }, {})).toEqual([]);
    expect(allowedHostNames({ host: "::", allowedHosts: [".corp.example"] }, { dashboardUrl: "https://Drift.Example.com:8443/x/" })).toEqual([".corp.example", "drift.example.com"]);
    expect(allowedHostNames({ host: "Driftwatch.internal", allowedHosts: [] }, {})).toEqual(["driftwatch.internal"]);
  });

  it("accepts IP literals, localhost and the names (a leading dot: subdomains too), in any case; refuses other names", () => {
    const names = allowedHostNames({ host: "0.0.0.0", allowedHosts: ["driftwatch.internal", ".corp.example"] }, {});
    for (const host of ["127.0.0.1:8080", "10.0.0.7", "[::1]:8080", "[fd00::1]", "localhost:8080", "a.localhost", "driftwatch.internal", "DRIFTWATCH.internal:80", "corp.example", "x.y.corp.example"]) {
      expect({ host, allowed: hostAllowed(host, names) }).toEqual({ host, allowed: true });
    }
    for (const host of ["attacker.example", "driftwatch.internal.attacker.example", "xcorp.example", "localhost.attacker.example", "[not-an-ip]", "127.0.0.1.nip.io"]) {
      expect({ host, allowed: hostAllowed(host, names) }).toEqual({ host, allowed: false });
    }
  });
});
