import { describe, expect, it } from "vitest";
import { serviceRelaunch, subcommandOf } from "./service-relaunch.ts";

const proc = (args: string[], execArgv: string[] = [], env: NodeJS.ProcessEnv = {}) => ({ execPath: "/usr/bin/node", execArgv, argv: ["/usr/bin/node", "/opt/driftwatch/dist/cli/bin.js", ...args], env });

describe("serve relaunched with the service's Node settings", () => {
  it("finds the subcommand past the program's own options and their values", () => {
    expect(subcommandOf(["--config", "serve", "check"])).toBe("check");
    expect(subcommandOf(["-c", "x.yaml", "--log-level", "debug", "-v", "serve", "--port", "0"])).toBe("serve");
    expect(subcommandOf(["--", "serve"])).toBe("serve");
    expect(subcommandOf(["--version"])).toBeUndefined();
  });

  it("relaunches serve without the flags, keeping the user's own flags, arguments and environment", () => {
    const again = serviceRelaunch(proc(["--config", "/etc/d.yaml", "serve", "--host", "0.0.0.0"], ["--max-old-space-size=512"], { MALLOC_ARENA_MAX: "4", TOKEN: "t" }));
    expect(again).toEqual({
      file: "/usr/bin/node",
      args: ["/usr/bin/node", "--max-semi-space-size=2", "--optimize-for-size", "--max-old-space-size=512", "/opt/driftwatch/dist/cli/bin.js", "--config", "/etc/d.yaml", "serve", "--host", "0.0.0.0"],
      env: { MALLOC_ARENA_MAX: "4", MALLOC_TRIM_THRESHOLD_: "131072", TOKEN: "t" },
    });
    expect(serviceRelaunch(proc(["serve"]))!.env).toEqual({ MALLOC_ARENA_MAX: "2", MALLOC_TRIM_THRESHOLD_: "131072" });
  });

  it("leaves alone a process that has the flags (its own value included), other commands, and an opt-out", () => {
    expect(serviceRelaunch(proc(["serve"], ["--max-semi-space-size=8", "--optimize-for-size"]))).toBeUndefined();
    expect(serviceRelaunch(proc(["check"]))).toBeUndefined();
    expect(serviceRelaunch(proc(["serve"], [], { DRIFTWATCH_SERVICE_FLAGS: "off" }))).toBeUndefined();
  });
});
