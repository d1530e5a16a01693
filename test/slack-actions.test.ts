// Acting on drift from Slack, end to end: `driftwatch serve` (in process, SQLite) watches two OpenTofu stacks and
// alerts through the real @slack/web-api client into the local Slack server, which sends the service signed
// button presses as Slack does. Real drift (files edited by hand) opens episodes; presses approve (the plan is
// applied and the thread updated), reject (the plan is not asked for again), re-check, acknowledge and snooze (a
// changed drift breaks the snooze). Refused: a person outside `approvers`, a bad signature, a stale timestamp and
// a replay (401, nothing done). A double press applies once. No secret reaches Slack, the log or the database.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.ts";
import type { DriftwatchConfig } from "../src/config/types.ts";
import { ACTION } from "../src/notifiers/slack/actions.ts";
import { startService, type Service } from "../src/service/serve.ts";
import type { AuditEntry } from "../src/store/api.ts";
import { readToolchainManifest } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { commitFiles, git } from "./support/git.ts";
import { until } from "./support/processes.ts";
import { SlackServer, type StoredMessage } from "./support/slack-server.ts";
import { sharedCacheDir } from "./support/tempdir.ts";
import { localFilesModule, terraformStackYaml } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

const toolchain = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
const BOT_TOKEN = "xoxb-slack-actions-test-token";
const SIGNING_SECRET = "slack-signing-secret-for-the-actions-test";
const API_TOKEN = "api-token-for-the-slack-actions-test";
const CHANNEL = "#drift";

const ALICE = { id: "UALICE01", name: "alice" }; // an approver by name
const BOB = { id: "UBOB0001", name: "bob" }; // an approver through the user group
const EVE = { id: "UEVE0001", name: "eve" }; // in the channel, not an approver

let slack: SlackServer;
let service: Service;
let config: DriftwatchConfig;
let root: string;
let world: string;
const log: string[] = [];

const file = (stack: string, name: string) => join(world, stack, `${name}.txt`);
const stackOf = (name: string) => config.stacks.find((s) => s.name === name)!;
const interactions = () => new URL("/api/slack/interactions", service.url).toString();
const press = (message: StoredMessage, actionId: string, user: { id: string; name: string }, option?: string) =>
  slack.press({ url: interactions(), signingSecret: SIGNING_SECRET, channel: CHANNEL, ts: message.ts, actionId, user, ...(option ? { option } : {}) });
const roots = () => slack.messages(CHANNEL).filter((m) => !m.threadTs);
const rootOf = (stack: string) => roots().find((m) => m.text.includes(` ${stack} (`));
const repliesTo = (root: StoredMessage) => slack.messages(CHANNEL).filter((m) => m.threadTs === root.ts);
const approvalMessages = () => slack.messages(CHANNEL).filter((m) => m.text.startsWith("Approval needed"));
const hasButton = (m: StoredMessage, actionId: string) => JSON.stringify(m.blocks).includes(`"action_id":"${actionId}"`);
const ephemeralsTo = (user: { id: string }) => slack.ephemerals.filter((e) => e.user === user.id);
const audit = async (stack: string): Promise<AuditEntry[]> => service.runner.store.listAudit({ stack, limit: 500 });
const runs = (stack: string) => service.runner.store.listRuns({ stack, limit: 500 });

async function check(stack: string): Promise<void> {
  const before = (await runs(stack)).length;
  const answer = await fetch(new URL(`/api/stacks/${stack}/check`, service.url), { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } });
  expect(answer.status).toBe(202);
  await until(async () => (await runs(stack)).length > before, engineTimeout(60), `a check of ${stack}`);
}

beforeAll(async () => {
  slack = await SlackServer.start(BOT_TOKEN);
  slack.userGroups.set("SPLATFORM", [BOB.id]);
  root = mkdtempSync(join(tmpdir(), "driftwatch-slack-actions-"));
  world = join(root, "world");
  const repo = join(root, "repo");
  mkdirSync(repo, { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  commitFiles(repo, { "files/main.tf": localFilesModule({ a: "alpha\n", b: "bravo\n" }), "notes/main.tf": localFilesModule({ n: "one\n", m: "two\n" }) }, "two stacks");
  for (const stack of ["files", "notes"]) mkdirSync(join(world, stack), { recursive: true });
  const configFile = join(root, "driftwatch.yaml");
  writeFileSync(
    configFile,
    [
      `dataDir: ${join(root, "data")}`,
      `cacheDir: ${sharedCacheDir}`,
      "service:",
      '  schedule: "0 0 1 1 *"', // no tick during the test: checks start when the test (or a button) asks
      "  runOnStart: false",
      "  gitPollSeconds: 0",
      "  http: { port: 0 }",
      "alerts:",
      `  slack: { channel: "${CHANNEL}", apiUrl: "${slack.url}", retries: 0 }`,
      "defaults:",
      `  approvers: [${ALICE.id}, SPLATFORM]`,
      "stacks:",
      ...terraformStackYaml({ name: "files", repo, path: "files", dir: join(world, "files"), binary: "tofu" }),
      "    remediation: { mode: approve, approvalHours: 1, allow: { replaces: true } }",
      ...terraformStackYaml({ name: "notes", repo, path: "notes", dir: join(world, "notes"), binary: "tofu" }),
      "",
    ].join("\n"),
  );
  const env = { ...process.env, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, DRIFTWATCH_API_TOKEN: API_TOKEN };
  const logger = pino({ level: "debug" }, { write: (line: string) => void log.push(line) });
  config = loadConfig(configFile, { env });
  service = await startService({ config, toolchain, logger, env });
  // Deployed once, as a person would before watching.
  for (const stack of ["files", "notes"]) expect((await service.runner.run(stackOf(stack), "converge")).verdict).toBe("in-sync");
}, engineTimeout(120));

afterAll(async () => {
  await service?.stop();
  await slack?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("acting on drift from Slack", () => {
  it("approves from the thread: a person outside approvers is refused, a double press applies once, the message says who and what happened", async () => {
    writeFileSync(file("files", "a"), "edited by hand\n");
    await check("files");
    await until(() => approvalMessages().some((m) => hasButton(m, ACTION.approve)), engineTimeout(30), "the approval request in Slack");
    const root = rootOf("files")!;
    const request = approvalMessages().at(-1)!;
    expect(request.threadTs).toBe(root.ts);
    const [pending] = await service.runner.store.listApprovals({ stack: "files", state: "pending" });
    expect(JSON.stringify(request.blocks)).toContain(`"value":"${pending!.id}"`);

    // Eve is in the channel but not an approver: told so, nothing happens.
    expect((await press(request, ACTION.approve, EVE)).status).toBe(200);
    await until(() => ephemeralsTo(EVE).length === 1, 10_000, "eve's answer");
    expect(ephemeralsTo(EVE)[0]!.text).toContain("You are not allowed to approve plans for stack *files*: you are not among its approvers. Nothing was done.");
    expect((await service.runner.store.getApproval(pending!.id))?.state).toBe("pending");
    expect(readFileSync(file("files", "a"), "utf8")).toBe("edited by hand\n");

    // Alice and Bob (through the group) press at the same moment: one apply.
    const presses = await Promise.all([press(request, ACTION.approve, ALICE), press(request, ACTION.approve, BOB)]);
    expect(presses.map((p) => p.status)).toEqual([200, 200]);
    await until(() => !hasButton(slack.messages(CHANNEL).find((m) => m.ts === request.ts)!, ACTION.approve), engineTimeout(60), "the approval message settled");
    const settled = slack.messages(CHANNEL).find((m) => m.ts === request.ts)!;
    const outcome = JSON.stringify(settled.blocks);
    expect(outcome).toMatch(/✅ Approved by <@(UALICE01|UBOB0001)> <!date\^\d+\^[^>]+> and applied: stack \*files\* is back in sync/);
    expect(hasButton(settled, ACTION.reject)).toBe(false);
    expect(readFileSync(file("files", "a"), "utf8")).toBe("alpha\n");
    const approval = (await service.runner.store.getApproval(pending!.id))!;
    expect(approval).toMatchObject({ state: "applied", decidedBy: expect.stringMatching(/^(alice \(Slack UALICE01\)|bob \(Slack UBOB0001\))$/) });
    const winner = approval.decidedBy!.startsWith("alice") ? ALICE : BOB;
    const loser = winner === ALICE ? BOB : ALICE;
    expect(outcome).toContain(`Approved by <@${winner.id}>`);
    expect((await audit("files")).filter((e) => e.decision === "applied")).toEqual([
      expect.objectContaining({ actor: `${winner.name} (Slack ${winner.id})`, triggeredBy: "slack", outcome: "in-sync", planFingerprint: approval.planFingerprint }),
    ]);
    // The other press was told, and applied nothing (busy while the winner applied, or decided by the time it looked).
    const told = /^(Not applied by this press: another remediation of this stack is in progress|Approval `[0-9a-f]{12}` is applied already)/;
    await until(() => ephemeralsTo(loser).some((e) => told.test(e.text)), 10_000, "the other press's answer");

    // The re-check after the apply resolves the episode: the thread says so, and the root loses its buttons.
    await until(() => repliesTo(root).some((m) => m.text.includes("back in sync")), engineTimeout(30), "the resolved reply");
    await until(() => !hasButton(slack.messages(CHANNEL).find((m) => m.ts === root.ts)!, ACTION.recheck), 10_000, "the root resolved");
  }, engineTimeout(240));

  it("rejects from the thread: the approval is rejected with who, audited, and the same plan is not asked for again; a stale request says so", async () => {
    writeFileSync(file("files", "b"), "edited by hand\n");
    await check("files");
    await until(() => approvalMessages().filter((m) => hasButton(m, ACTION.reject)).length === 1, engineTimeout(30), "a new approval request in Slack");
    const request = approvalMessages().find((m) => hasButton(m, ACTION.reject))!;
    const [pending] = await service.runner.store.listApprovals({ stack: "files", state: "pending" });

    expect((await press(request, ACTION.reject, EVE)).status).toBe(200);
    await until(() => ephemeralsTo(EVE).length === 2, 10_000, "eve's second answer");
    expect(ephemeralsTo(EVE)[1]!.text).toContain("You are not allowed to reject plans for stack *files*");
    expect((await press(request, ACTION.reject, BOB)).status).toBe(200);
    await until(() => !hasButton(slack.messages(CHANNEL).find((m) => m.ts === request.ts)!, ACTION.reject), 10_000, "the request settled");
    expect(JSON.stringify(slack.messages(CHANNEL).find((m) => m.ts === request.ts)!.blocks)).toContain("🚫 Rejected by <@UBOB0001>");
    expect(await service.runner.store.getApproval(pending!.id)).toMatchObject({ state: "rejected", decidedBy: "bob (Slack UBOB0001)" });
    expect((await audit("files"))[0]).toMatchObject({ decision: "rejected", actor: "bob (Slack UBOB0001)", triggeredBy: "slack", planFingerprint: pending!.planFingerprint });

    // The next check finds the same drift: nothing is applied, and nobody is asked again.
    const requestsBefore = approvalMessages().length;
    const auditBefore = (await audit("files")).length;
    await check("files");
    await until(async () => (await audit("files")).length > auditBefore, engineTimeout(30), "the remediation decision");
    expect((await audit("files"))[0]).toMatchObject({ decision: "refused", actor: "driftwatch", reason: expect.stringContaining("the plan is the one bob (Slack UBOB0001) rejected") });
    expect(await service.runner.store.listApprovals({ stack: "files", state: "pending" })).toEqual([]);
    expect(readFileSync(file("files", "b"), "utf8")).toBe("edited by hand\n");

    // Put right by hand: the next check is in sync, and the episode resolves.
    writeFileSync(file("files", "b"), "bravo\n");
    await check("files");
    expect((await runs("files"))[0]!.verdict).toBe("in-sync");
    expect(approvalMessages().length).toBe(requestsBefore);

    // The same drift again, in a new episode: asked for again. Put right by hand before anyone answers, the request
    // is void; a press on its message says so and takes the buttons off.
    writeFileSync(file("files", "b"), "edited by hand\n");
    await check("files");
    await until(() => approvalMessages().filter((m) => hasButton(m, ACTION.approve)).length === 1, engineTimeout(30), "the request asked again");
    const again = approvalMessages().find((m) => hasButton(m, ACTION.approve))!;
    writeFileSync(file("files", "b"), "bravo\n");
    await check("files");
    await until(async () => (await service.runner.store.listApprovals({ stack: "files", state: "void" })).length === 1, 10_000, "the request void");
    expect((await press(again, ACTION.approve, ALICE)).status).toBe(200);
    await until(() => !hasButton(slack.messages(CHANNEL).find((m) => m.ts === again.ts)!, ACTION.approve), 10_000, "the stale request settled");
    expect(ephemeralsTo(ALICE).at(-1)!.text).toMatch(/^Approval `[0-9a-f]{12}` is void already: the stack is in sync \(run [^)]+\)\. Nothing was done\.$/);
    expect(JSON.stringify(slack.messages(CHANNEL).find((m) => m.ts === again.ts)!.blocks)).toContain("_This approval is void: the stack is in sync");
    expect((await audit("files")).filter((e) => e.decision === "applied")).toHaveLength(1);
  }, engineTimeout(300));

  it("re-checks, acknowledges and snoozes from the root; a changed drift breaks the snooze", async () => {
    writeFileSync(file("notes", "n"), "edited by hand\n");
    await check("notes");
    await until(() => rootOf("notes") !== undefined && hasButton(rootOf("notes")!, ACTION.recheck), engineTimeout(30), "the notes episode in Slack");
    const root = rootOf("notes")!;
    const episode = (await service.runner.store.openEpisode("notes"))!;

    // Re-check: anyone in the channel may; a check runs, triggered by Slack.
    const checksBefore = (await runs("notes")).length;
    expect((await press(root, ACTION.recheck, EVE)).status).toBe(200);
    await until(async () => (await runs("notes")).length > checksBefore, engineTimeout(60), "the check Slack asked for");
    expect((await runs("notes"))[0]).toMatchObject({ trigger: "slack", verdict: "drifted" });
    await until(() => ephemeralsTo(EVE).some((e) => /A check of stack \*notes\* is (queued|already queued or running)/.test(e.text)), 10_000, "eve told of the check");

    // Acknowledge: the root says who is on it; a second acknowledgement is told who was first.
    expect((await press(root, ACTION.acknowledge, EVE)).status).toBe(200);
    await until(() => JSON.stringify(rootOf("notes")!.blocks).includes("👀 <@UEVE0001> is on it"), 10_000, "the root acknowledged");
    expect(hasButton(rootOf("notes")!, ACTION.acknowledge)).toBe(false);
    const page = await (await fetch(new URL("/stacks/notes", service.url))).text();
    expect(page).toContain("eve");

    // Snooze for a day: the same drift seen again updates nothing in Slack.
    const select = JSON.stringify(rootOf("notes")!.blocks).match(/"value":"(\d+:1d)"/)![1]!;
    expect(select).toBe(`${episode.id}:1d`);
    expect((await press(rootOf("notes")!, ACTION.snooze, BOB, select)).status).toBe(200);
    await until(() => JSON.stringify(rootOf("notes")!.blocks).includes("💤 Snoozed by <@UBOB0001> until"), 10_000, "the root snoozed");
    const edits = rootOf("notes")!.edits;
    const replies = repliesTo(root).length;
    await check("notes");
    // The run's alert transition is written (the episode seen once more) with nothing for Slack in the outbox.
    await until(async () => (await service.runner.store.openEpisode("notes"))!.seenCount === episode.seenCount + 2, 10_000, "the snoozed sighting recorded");
    expect(await service.runner.store.pendingAlerts("slack")).toEqual([]);
    expect(rootOf("notes")!.edits).toBe(edits);
    expect(repliesTo(root).length).toBe(replies);

    // The drift changes: a reply says so, and the root is updated without the snooze.
    writeFileSync(file("notes", "m"), "also edited\n");
    await check("notes");
    await until(() => repliesTo(root).length === replies + 1, engineTimeout(30), "the changed-drift reply");
    expect(repliesTo(root).at(-1)!.text).toContain("Drift in notes changed");
    await until(() => !JSON.stringify(rootOf("notes")!.blocks).includes("💤"), 10_000, "the snooze gone from the root");
    expect(JSON.stringify(rootOf("notes")!.blocks)).toContain("👀 <@UEVE0001> is on it");
    expect((await service.runner.store.openEpisode("notes"))!.snooze).toBeUndefined();

    const decisions = (await audit("notes")).map((e) => [e.decision, e.actor]);
    expect(decisions).toEqual([
      ["snoozed", "bob (Slack UBOB0001)"],
      ["acknowledged", "eve (Slack UEVE0001)"],
      ["recheck-requested", "eve (Slack UEVE0001)"],
    ]);
  }, engineTimeout(240));

  it("refuses a bad signature, a stale timestamp and a replay with 401, and does nothing", async () => {
    const root = rootOf("notes")!;
    const auditBefore = (await audit("notes")).length;
    const runsBefore = (await runs("notes")).length;
    const ephemeralsBefore = slack.ephemerals.length;
    const base = { url: interactions(), signingSecret: SIGNING_SECRET, channel: CHANNEL, ts: root.ts, actionId: ACTION.recheck, user: ALICE };
    const bad = await slack.press({ ...base, signature: `v0=${"0".repeat(64)}` });
    const wrongSecret = await slack.press({ ...base, signingSecret: "not-the-apps-secret" });
    const stale = await slack.press({ ...base, timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect([bad.status, wrongSecret.status, stale.status]).toEqual([401, 401, 401]);
    expect(JSON.parse(stale.body)).toEqual({ error: "the request's timestamp is more than five minutes off (a replay, or a wrong clock)" });

    expect((await audit("notes")).length).toBe(auditBefore);
    expect((await runs("notes")).length).toBe(runsBefore);
    expect(slack.ephemerals.length).toBe(ephemeralsBefore);

    // A press that was taken (a snooze), sent again byte for byte: refused, and done once.
    const option = JSON.stringify(root.blocks).match(/"value":"(\d+:1h)"/)![1]!;
    const taken = await slack.press({ ...base, actionId: ACTION.snooze, user: BOB, option });
    expect(taken.status).toBe(200);
    await until(async () => (await audit("notes")).length === auditBefore + 1, 10_000, "the snooze audited");
    const replayed = await slack.replay(taken.request);
    expect(replayed.status).toBe(401);
    expect(JSON.parse(replayed.body)).toEqual({ error: "this request was taken already (a replay)" });
    // The service answered the replay without handing it on: what it did for the press is all there is.
    expect((await audit("notes")).map((e) => e.decision)).toEqual(["snoozed", "snoozed", "acknowledged", "recheck-requested"]);
    expect((await runs("notes")).length).toBe(runsBefore);
  }, engineTimeout(60));

  it("leaks no secret into Slack, the log or the database", async () => {
    await until(async () => (await service.runner.store.pendingAlerts("slack")).length === 0, 10_000, "the outbox drained");
    const posted = JSON.stringify([slack.messages(CHANNEL), slack.ephemerals, slack.requests.map((r) => r.body)]);
    const recorded = JSON.stringify([await audit("files"), await audit("notes"), await service.runner.store.listApprovals({ limit: 100 })]);
    for (const text of [posted, recorded, ...log]) {
      expect(text).not.toContain(SIGNING_SECRET);
      expect(text).not.toContain(API_TOKEN);
    }
    expect(posted.replace(/"token":"xoxb-slack-actions-test-token"/g, "")).not.toContain(BOT_TOKEN);
    expect(log.join("\n")).not.toContain(BOT_TOKEN);
  });
});
