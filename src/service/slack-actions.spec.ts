// What a press does, below the HTTP side: the real Slack transport against the local Slack server, a real SQLite
// store holding the episode and approval pressed. Who may act (restricted actions, a stack without approvers, a user
// group Slack cannot read), presses on records that are gone or over, and the ignore rule shown to the presser.
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../config/load.ts";
import type { DriftwatchConfig } from "../config/types.ts";
import type { AlertEvent, Person } from "../core/alerts.ts";
import { ACTION } from "../notifiers/slack/actions.ts";
import { SlackTransport } from "../notifiers/slack/client.ts";
import type { SlackAction } from "../notifiers/slack/interaction.ts";
import type { Store } from "../store/api.ts";
import { openSqliteStore } from "../store/sqlite/index.ts";
import { drift, recordHistory } from "../../test/support/history.ts";
import { SlackServer } from "../../test/support/slack-server.ts";
import { tempDir } from "../../test/support/tempdir.ts";
import { createSlackActions } from "./slack-actions.ts";

const TOKEN = "xoxb-slack-actions-spec";
const EVE: Person = { id: "UEVE0001", name: "eve" };
const ALICE: Person = { id: "UALICE01", name: "alice" };
const AT = "2026-11-23T10:00:00.000Z";

let server: SlackServer;
let store: Store | undefined;
beforeAll(async () => {
  server = await SlackServer.start(TOKEN);
});
afterAll(() => server.close());
afterEach(() => store?.close());

async function setup() {
  const dir = tempDir();
  const config: DriftwatchConfig = parseConfig(
    [
      `dataDir: ${dir}`,
      "defaults: { approvers: [UALICE01, SGONE001] }",
      "stacks:",
      "  - { name: open, engine: terraform, source: { repo: /nowhere, path: open } }",
      "  - { name: guarded, engine: terraform, source: { repo: /nowhere, path: guarded }, actions: { restrict: true } }",
      "  - { name: nobody, engine: terraform, source: { repo: /nowhere, path: nobody }, approvers: [], remediation: { mode: approve } }",
      "",
    ].join("\n"),
    join(dir, "driftwatch.yaml"),
    { env: {} },
  );
  store = await openSqliteStore(join(dir, "driftwatch.db"));
  const opened = store;
  const flapping = [{ address: "aws_security_group.web", type: "aws_security_group", times: 4, since: AT, paths: ["tags.LastScanned"] }];
  // A drifted run recorded as the pipeline does: it opens the stack's episode.
  const episodeOf = async (stack: string) => {
    await recordHistory(opened, config.stacks.find((s) => s.name === stack)!, [{ startedAt: AT, changes: [drift("aws_security_group.web", "aws_security_group", "tags.LastScanned")], flapping }]);
    return (await opened.openEpisode(stack))!;
  };
  const triggered: string[] = [];
  const notified: AlertEvent[] = [];
  const actions = createSlackActions({
    config,
    store: opened,
    slack: new SlackTransport({ token: TOKEN, apiUrl: server.url, timeoutMs: 2000, retries: 0, maxRateLimitWaitMs: 0, logger: pino({ level: "silent" }) }),
    trigger: (stack) => {
      triggered.push(stack);
      return "queued";
    },
    approve: () => Promise.reject(new Error("approving is not part of this spec")),
    reject: () => Promise.reject(new Error("rejecting is not part of this spec")),
    notify: async (_stack, event) => void notified.push(event),
    logger: pino({ level: "silent" }),
  });
  return { config, store: opened, actions, episodeOf, triggered, notified };
}

let ts = 0;
function pressOf(actionId: string, value: string, user: Person): SlackAction {
  ts += 1;
  return { actionId, value, user, channel: "CDRIFT000", messageTs: `${1795428000 + ts}.000100`, message: { text: "", blocks: [] } };
}

const lastTo = (user: Person) => server.ephemerals.filter((e) => e.user === user.id).at(-1)?.text;

describe("Slack actions", () => {
  it("lets anyone re-check, acknowledge and snooze, unless the stack restricts them to its approvers", async () => {
    const { actions, episodeOf, triggered, notified, store } = await setup();
    const open = await episodeOf("open");
    const guarded = await episodeOf("guarded");

    await actions.handle(pressOf(ACTION.recheck, String(open.id), EVE));
    expect(triggered).toEqual(["open"]);
    expect(lastTo(EVE)).toBe("A check of stack *open* is queued; this thread hears of it if the drift changes or resolves.");

    // Restricted: Eve is not an approver, and the group that might hold her cannot be read; she is told both.
    await actions.handle(pressOf(ACTION.recheck, String(guarded.id), EVE));
    await actions.handle(pressOf(ACTION.acknowledge, String(guarded.id), EVE));
    await actions.handle(pressOf(ACTION.snooze, `${guarded.id}:1w`, EVE));
    expect(triggered).toEqual(["open"]);
    expect(lastTo(EVE)).toMatch(/^🚫 You are not allowed to snooze drift for stack \*guarded\*: you are not among its approvers \(the members of user group SGONE001 could not be read \(usergroups\.users\.list failed with no_such_subteam: .*\)\)\. Nothing was done\.$/);
    expect(await store.openEpisode("guarded")).not.toHaveProperty("acknowledged");
    expect(await store.openEpisode("guarded")).not.toHaveProperty("snooze");

    // Alice is named: she may, and the root is updated (through the outbox) to say so.
    await actions.handle(pressOf(ACTION.acknowledge, String(guarded.id), ALICE));
    expect((await store.openEpisode("guarded"))?.acknowledged).toMatchObject({ by: ALICE });
    expect(notified).toMatchObject([{ type: "episode-noted", note: "acknowledged", by: ALICE, subject: { stack: "guarded", runId: guarded.lastRunId, verdict: "drifted" }, episode: { id: guarded.id, acknowledged: { by: ALICE } } }]);
    await actions.handle(pressOf(ACTION.acknowledge, String(guarded.id), EVE));
    expect(lastTo(EVE)).toMatch(/^🚫 You are not allowed/);
    expect((await store.listAudit({ stack: "guarded" })).map((e) => [e.decision, e.actor, e.triggeredBy])).toEqual([["acknowledged", "alice (Slack UALICE01)", "slack"]]);
  });

  it("says so, and does nothing, for a resolved episode, an unknown one, an unknown approval, or a stack without approvers", async () => {
    const { actions, episodeOf, store, triggered, notified } = await setup();
    const open = await episodeOf("open");
    await store.applyAlertTransition({ stack: "open", episode: { op: "close", episode: { ...open, closedAt: "2026-11-23T11:00:00.000Z" } }, events: [], notifiers: [] });
    await actions.handle(pressOf(ACTION.snooze, `${open.id}:1h`, EVE));
    expect(lastTo(EVE)).toMatch(/^This drift episode of stack \*open\* is resolved \(<!date\^\d+\^.*\)\. Nothing was done\.$/);
    await actions.handle(pressOf(ACTION.recheck, "424242", EVE));
    expect(lastTo(EVE)).toBe("This drift episode is not known to Driftwatch (or its stack is not configured any more). Nothing was done.");
    await actions.handle(pressOf(ACTION.approve, "0123456789ab", ALICE));
    expect(lastTo(ALICE)).toBe("This approval is not known to Driftwatch. Nothing was done.");
    await actions.handle(pressOf(ACTION.snooze, "not-an-option", EVE));
    expect(lastTo(EVE)).toBe("This drift episode is not known to Driftwatch (or its stack is not configured any more). Nothing was done.");

    await episodeOf("nobody");
    const { approval } = await store.requestApproval({ id: "00aa11bb22cc", stack: "nobody", runId: "r1", commit: "c0ffee", planFingerprint: "fp", plan: [], requestedAt: AT, expiresAt: "2099-01-01T00:00:00.000Z" });
    await actions.handle(pressOf(ACTION.approve, approval.id, ALICE));
    expect(lastTo(ALICE)).toBe("🚫 Nobody may approve plans for stack *nobody* from Slack: its configuration names no `approvers`. Nothing was done.");
    expect((await store.getApproval(approval.id))?.state).toBe("pending");
    expect(triggered).toEqual([]);
    expect(notified).toEqual([]);
    expect(await store.listAudit({})).toEqual([]);
  });

  it("shows the ignore rule of a flapping episode to whoever asks, with the file and stack it belongs in", async () => {
    const { actions, episodeOf, config } = await setup();
    const open = await episodeOf("open");
    await actions.handle(pressOf(ACTION.ignoreRule, String(open.id), EVE));
    const answer = server.ephemerals.filter((e) => e.user === EVE.id).at(-1)!;
    expect(answer.channel).toBe("CDRIFT000");
    expect(answer.text).toBe(
      `In \`${config.file}\`, under the stack named \`open\` (its \`ignore:\` list; create it if there is none):\n` +
        '```\nignore:\n  - { type: "aws_security_group", paths: ["tags.LastScanned"] }\n```\n' +
        "Ignored properties are never drift, never pending, and never put back by remediation.",
    );
  });
});
