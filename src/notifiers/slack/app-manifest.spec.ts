// docs/slack-app-manifest.yaml grants what the code calls: every Slack Web API method src/ calls through the
// client is listed here with the bot scopes it needs, and the manifest must have them. A new method fails this
// test until its scopes are added to both.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../../toolchain/paths.ts";

/** The bot scopes each method needs (one of each inner list: public or private channels). */
const SCOPES: Record<string, string[][]> = {
  "chat.postMessage": [["chat:write"]],
  "chat.update": [["chat:write"]],
  "chat.postEphemeral": [["chat:write"]],
  "conversations.list": [["channels:read"], ["groups:read"]],
  "conversations.history": [["channels:history"], ["groups:history"]],
  "conversations.replies": [["channels:history"], ["groups:history"]],
  "usergroups.users.list": [["usergroups:read"]],
};

function calledMethods(): Set<string> {
  const methods = new Set<string>();
  const files = readdirSync(join(repoRoot, "src"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts") && !f.endsWith(".spec.ts"));
  for (const file of files) {
    for (const match of readFileSync(join(repoRoot, "src", file), "utf8").matchAll(/\bclient\.((?:chat|conversations|usergroups|users|reactions|files|team|auth)(?:\.[a-zA-Z]+)+)\(/g)) methods.add(match[1]!);
  }
  return methods;
}

describe("the Slack app manifest", () => {
  const manifest = parse(readFileSync(join(repoRoot, "docs", "slack-app-manifest.yaml"), "utf8")) as {
    oauth_config: { scopes: { bot: string[] } };
    settings: { interactivity: { request_url: string } };
  };

  it("grants every scope the methods Driftwatch calls need", () => {
    const methods = calledMethods();
    expect(methods.size).toBeGreaterThan(5);
    expect([...methods].filter((m) => !(m in SCOPES))).toEqual([]);
    const granted = new Set(manifest.oauth_config.scopes.bot);
    const missing = [...methods].flatMap((m) => SCOPES[m]!.flat().filter((scope) => !granted.has(scope)));
    expect(missing).toEqual([]);
  });

  it("sends button presses to the route the server answers", () => {
    const app = readFileSync(join(repoRoot, "src", "server", "app.ts"), "utf8");
    const path = new URL(manifest.settings.interactivity.request_url).pathname;
    expect(app).toContain(`app.post("${path}"`);
  });
});
