import { describe, expect, it } from "vitest";
import { blockProblem } from "../../../test/support/slack-server.ts";
import type { PropertyDiff, ResourceChange } from "../../core/types.ts";
import type { AlertSubject, ChangeRef, EpisodeInfo } from "../../core/alerts.ts";
import { cut, duration, escapeMrkdwn, fitEscaped, LIMITS, RESOURCES_TEXT_BUDGET, renderApprovalRequested, renderNeedsAttention, renderReply, renderReportDigest, renderRoot, renderRunFailed, withOutcome, type EpisodeEvent, type SlackMessage } from "./render.ts";
import { ACTION } from "./actions.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const subject: AlertSubject = {
  stack: "network",
  engine: "terraform",
  runId: "run-1",
  verdict: "drifted",
  commit: SHA,
  repo: "git@github.com:acme/infra.git",
  path: "terraform/network",
  checkedAt: "2026-11-23T10:30:00.000Z",
};
const episode: EpisodeInfo = { id: 7, openedAt: "2026-11-23T10:00:00.000Z", seenCount: 3, lastSeenAt: "2026-11-23T10:30:00.000Z" };
const sg: ResourceChange = {
  kind: "drift",
  address: "aws_security_group.web",
  type: "aws_security_group",
  action: "update",
  properties: [
    { path: "ingress[0].cidr_blocks[1]", desired: "10.0.0.0/8", actual: "0.0.0.0/0" },
    { path: "tags.owner", desired: "team-a", actual: null },
    { path: "password", desired: "[secret]", actual: "[secret]" },
  ],
};
const bucket: ResourceChange = { kind: "drift", address: "urn:pulumi:dev::app::aws:s3/bucket:Bucket::logs", type: "aws:s3/bucket:Bucket", action: "delete", properties: [] };
const queue: ResourceChange = { kind: "pending", address: "aws_sqs_queue.jobs", type: "aws_sqs_queue", action: "create", properties: [{ path: "name", desired: "jobs", actual: null }] };
const OPENED_AT = "<!date^1795428000^{date_short_pretty} {time}|2026-11-23T10:00:00.000Z>";
const CHECKED_AT = "<!date^1795429800^{date_short_pretty} {time}|2026-11-23T10:30:00.000Z>";
const COMMIT_LINK = `<https://github.com/acme/infra/commit/${SHA}|0123456789ab>`;

const mrkdwn = (text: string) => ({ type: "mrkdwn" as const, text });
const all = (m: SlackMessage) => JSON.stringify(m.blocks);
const sectionTexts = (m: SlackMessage) => m.blocks.flatMap((b) => (b.type === "section" && b.text ? [b.text.text] : []));

describe("root message", () => {
  it("renders a drift: header, facts, status, each resource's diffs, the dashboard link", () => {
    const message = renderRoot({ type: "episode-opened", subject, episode: { ...episode, seenCount: 1 }, changes: [sg, bucket] }, { dashboardUrl: "https://dw.example.com/", mention: "<!subteam^S0123ABCD>" });
    expect(message).toEqual({
      text: "<!subteam^S0123ABCD> Drift in network (terraform): 2 drifted, 0 pending resources at 0123456789ab",
      blocks: [
        { type: "header", text: { type: "plain_text", text: "🔴 Drift in stack network", emoji: true } },
        { type: "section", text: mrkdwn("<!subteam^S0123ABCD> new drift in stack *network*") },
        {
          type: "context",
          elements: [
            mrkdwn("*Engine* terraform"),
            mrkdwn("*Verdict* drifted"),
            mrkdwn(`*Commit* ${COMMIT_LINK}`),
            mrkdwn("*Path* `terraform/network`"),
            mrkdwn("*Resources* 2 drifted · 0 pending"),
            mrkdwn(`First seen ${OPENED_AT}`),
          ],
        },
        { type: "divider" },
        {
          type: "section",
          text: mrkdwn(
            '*drift update* `aws_security_group.web`\n```\ningress[0].cidr_blocks[1]: "10.0.0.0/8" → "0.0.0.0/0"\ntags.owner: "team-a" → (none)\npassword: "[secret]" → "[secret]"\n```',
          ),
        },
        { type: "section", text: mrkdwn("*drift delete* `aws:s3/bucket:Bucket::logs`") },
        { type: "section", text: mrkdwn("<https://dw.example.com/runs/run-1|View this run in the dashboard>") },
      ],
    });
  });

  it("says a drift is still there, how often it was seen, without the mention", () => {
    const message = renderRoot({ type: "episode-unchanged", subject, episode, changes: [sg] }, { mention: "<!here>" });
    expect(JSON.stringify(message)).not.toContain("<!here>");
    expect(message.blocks[1]).toMatchObject({ type: "context" });
    expect(message.blocks[1]).toHaveProperty(["elements", 5, "text"], `Still drifted · last checked ${CHECKED_AT} · seen 3 times`);
    expect(all(message)).not.toContain("/runs/");
  });

  it("renders pending changes in yellow, with their counts", () => {
    const message = renderRoot({ type: "episode-changed", subject: { ...subject, verdict: "pending" }, episode, changes: [queue], added: [], removed: [], modified: [] });
    expect(message.text).toBe("Pending changes in network (terraform): 0 drifted, 1 pending resource at 0123456789ab");
    expect(message.blocks[0]).toEqual({ type: "header", text: { type: "plain_text", text: "🟡 Pending changes in stack network", emoji: true } });
    expect(message.blocks[1]).toHaveProperty(["elements", 4, "text"], "*Resources* 0 drifted · 1 pending");
    expect(message.blocks[1]).toHaveProperty(["elements", 5, "text"], `Still pending · last checked ${CHECKED_AT} · seen 3 times`);
    expect(sectionTexts(message)).toEqual(['*pending create* `aws_sqs_queue.jobs`\n```\nname: "jobs" → (none)\n```']);
  });

  it("says both when a stack has drift and pending changes", () => {
    const message = renderRoot({ type: "episode-unchanged", subject: { ...subject, verdict: "drifted+pending" }, episode, changes: [sg, queue] });
    expect(message.blocks[0]).toHaveProperty(["text", "text"], "🔴 Drift and pending changes in stack network");
    expect(message.text).toContain("1 drifted, 1 pending resources");
  });

  it("turns resolved: duration and count in the status, the last changes kept and marked resolved", () => {
    const resolved = { ...episode, seenCount: 4, closedAt: "2026-11-23T12:15:00.000Z", durationMs: 8_100_000 };
    const message = renderRoot({ type: "episode-resolved", subject: { ...subject, verdict: "in-sync" }, episode: resolved, changes: [sg, bucket] }, { mention: "<!here>" });
    expect(message.text).toBe("Resolved: network (terraform) is in sync again after 2h 15m");
    expect(message.blocks[0]).toHaveProperty(["text", "text"], "✅ Resolved: stack network is back in sync");
    expect(message.blocks[1]).toHaveProperty(["elements", 1, "text"], "*Verdict* in-sync");
    expect(message.blocks[1]).toHaveProperty(["elements", 4, "text"], "*Last seen* 2 drifted · 0 pending");
    expect(message.blocks[1]).toHaveProperty(["elements", 5, "text"], "Resolved after 2h 15m (seen 4 times) · <!date^1795436100^{date_short_pretty} {time}|2026-11-23T12:15:00.000Z>");
    expect(message.blocks[2]).toEqual({ type: "context", elements: [mrkdwn("✅ Resolved: the last changes seen before stack network got back in sync")] });
    expect(sectionTexts(message)).toEqual([
      expect.stringMatching(/^✅ \*drift update\* `aws_security_group.web` · _resolved_\n```\ningress\[0\]\.cidr_blocks\[1\]: "10\.0\.0\.0\/8" → "0\.0\.0\.0\/0"\n/),
      "✅ *drift delete* `aws:s3/bucket:Bucket::logs` · _resolved_",
    ]);
    expect(JSON.stringify(message)).not.toContain("<!here>");
  });

  it("shows a stale source as a warning", () => {
    const message = renderRoot({ type: "episode-unchanged", subject: { ...subject, staleSource: "could not fetch <origin>: timeout" }, episode, changes: [sg] });
    expect(message.blocks[1]).toHaveProperty(["elements", 6, "text"], "⚠️ *Stale source* (remote unreachable, last fetch used): could not fetch &lt;origin&gt;: timeout");
    expect(message.text).toContain("(stale source)");
  });

  it("links the commit on a forge, and shows it unlinked for a local repository or none for no commit", () => {
    const onGithub = renderRoot({ type: "episode-unchanged", subject, episode, changes: [sg] });
    expect(all(onGithub)).toContain(`*Commit* ${COMMIT_LINK}`);
    const local = renderRoot({ type: "episode-unchanged", subject: { ...subject, repo: "/srv/git/infra" }, episode, changes: [sg] });
    expect(all(local)).toContain("*Commit* `0123456789ab`");
    expect(all(local)).not.toContain("https://");
    const { commit: _, ...noCommit } = subject;
    expect(all(renderRoot({ type: "episode-unchanged", subject: noCommit, episode, changes: [sg] }))).toContain("*Commit* unknown");
  });

  it("escapes Slack's control characters everywhere, so input can neither format nor mention", () => {
    const nasty: ResourceChange = {
      kind: "drift",
      address: "aws_instance.a<!channel>&`b`",
      type: "t",
      action: "replace",
      replacePaths: ["tags[\"<x>\"]"],
      properties: [
        { path: "tags.<!here>", desired: "a & b", actual: "</code>```<@U123>" },
        { path: "user_data", desired: "&amp;", actual: "x" },
      ],
    };
    const message = renderRoot({ type: "episode-unchanged", subject: { ...subject, stack: "a<b>&c", path: "x`<y>" }, episode, changes: [nasty] });
    expect(message.blocks[0]).toHaveProperty(["text", "text"], "🔴 Drift in stack a<b>&c"); // plain text: shown as is
    expect(message.text).toContain("Drift in a&lt;b&gt;&amp;c (terraform)");
    expect(message.blocks[1]).toHaveProperty(["elements", 3, "text"], "*Path* `xˋ&lt;y&gt;`");
    expect(sectionTexts(message)[0]).toBe(
      [
        "*drift replace* `aws_instance.a&lt;!channel&gt;&amp;ˋbˋ`",
        'replaced because of `tags["&lt;x&gt;"]`',
        "```",
        'tags.&lt;!here&gt;: "a &amp; b" → "&lt;/code&gt;`\u200b`\u200b`&lt;@U123&gt;"',
        'user_data: "&amp;amp;" → "x"',
        "```",
      ].join("\n"),
    );
  });

  it("keeps [secret] and [hidden] values as they are", () => {
    const masked: ResourceChange = { ...sg, properties: [{ path: "password", desired: "[secret]", actual: "[secret]" }, { path: "user_data", desired: "[hidden]", actual: null }] };
    const texts = sectionTexts(renderRoot({ type: "episode-unchanged", subject, episode, changes: [masked] }));
    expect(texts[0]).toContain('password: "[secret]" → "[secret]"\nuser_data: "[hidden]" → (none)');
  });

  it("names who changed a drifted field when the engine knows (a Kubernetes field manager)", () => {
    const edited: ResourceChange = {
      kind: "drift",
      address: "Deployment.apps/web/frontend",
      type: "Deployment.apps",
      action: "update",
      properties: [{ path: "spec.template.spec.containers[0].image", desired: "nginx:1.27", actual: "nginx:1.28", changedBy: { manager: "kubectl-edit", operation: "Update", time: "2026-11-27T14:02:11Z" } }],
    };
    const texts = sectionTexts(renderRoot({ type: "episode-unchanged", subject, episode, changes: [edited] }));
    expect(texts[0]).toContain('spec.template.spec.containers[0].image: "nginx:1.27" → "nginx:1.28"  (by kubectl-edit (Update, 2026-11-27T14:02:11Z))');
  });

  it("links the dashboard run without a double slash, its id encoded", () => {
    const message = renderRoot({ type: "episode-unchanged", subject: { ...subject, runId: "r/1 2" }, episode, changes: [] }, { dashboardUrl: "https://dw.example.com/base//" });
    expect(message.blocks.at(-1)).toEqual({ type: "section", text: mrkdwn("<https://dw.example.com/base/runs/r%2F1%202|View this run in the dashboard>") });
  });
});

describe("thread replies", () => {
  const ref = (address: string, action: ChangeRef["action"], kind: ChangeRef["kind"] = "drift"): ChangeRef => ({ kind, address, type: "t", action });

  it("say what changed within the episode", () => {
    const message = renderReply(
      {
        type: "episode-changed",
        subject,
        episode,
        changes: [sg],
        added: [ref("aws_instance.new", "delete"), ref("aws_sqs_queue.jobs", "create", "pending")],
        removed: [ref(bucket.address, "delete")],
        modified: [ref(sg.address, "update")],
      },
      { dashboardUrl: "https://dw.example.com" },
    );
    expect(message).toEqual({
      text: "Drift in network changed: 2 new, 1 no longer diverging, 1 with changed diffs",
      blocks: [
        { type: "section", text: mrkdwn(`🔄 *The drift in stack network changed* · checked ${CHECKED_AT} · seen 3 times`) },
        { type: "section", text: mrkdwn("*New in the divergence* (2)\n• drift delete `aws_instance.new`\n• pending create `aws_sqs_queue.jobs`") },
        { type: "section", text: mrkdwn("*No longer diverging* (1)\n• drift delete `aws:s3/bucket:Bucket::logs`") },
        { type: "section", text: mrkdwn("*Diffs changed* (1)\n• drift update `aws_security_group.web`") },
        { type: "section", text: mrkdwn("<https://dw.example.com/runs/run-1|View this run in the dashboard>") },
      ],
    });
  });

  it("leave out empty groups", () => {
    const message = renderReply({ type: "episode-changed", subject, episode, changes: [sg], added: [], removed: [ref("x.y", "update")], modified: [] });
    expect(sectionTexts(message)).toHaveLength(2);
    expect(sectionTexts(message)[1]).toBe("*No longer diverging* (1)\n• drift update `x.y`");
  });

  it("say the stack is back in sync, with the episode's duration", () => {
    const message = renderReply({ type: "episode-resolved", subject: { ...subject, verdict: "in-sync" }, episode: { ...episode, durationMs: 90_000 }, changes: [sg] });
    expect(message).toEqual({
      text: "network is back in sync after 1m",
      blocks: [{ type: "section", text: mrkdwn(`✅ Back in sync after 1m (seen 3 times) · checked ${CHECKED_AT} at commit ${COMMIT_LINK}`) }],
    });
  });
});

describe("failure message", () => {
  it("names the stack, the error and how many failures were not alerted", () => {
    const message = renderRunFailed(
      { type: "run-failed", subject: { ...subject, verdict: "error", repo: "/srv/infra" }, error: { kind: "ProgramError", message: "main.tf:3: <oops> & ```" }, suppressed: 4 },
      { dashboardUrl: "https://dw.example.com", mention: "<!here>" },
    );
    expect(message).toEqual({
      text: "Could not check network (terraform): ProgramError: main.tf:3: &lt;oops&gt; &amp; `\u200b`\u200b`",
      blocks: [
        { type: "header", text: { type: "plain_text", text: "⚠️ Could not check stack network", emoji: true } },
        {
          type: "context",
          elements: [mrkdwn("*Engine* terraform"), mrkdwn("*Commit* `0123456789ab`"), mrkdwn("*Path* `terraform/network`"), mrkdwn(`*When* ${CHECKED_AT}`), mrkdwn("4 earlier failed runs were not alerted")],
        },
        { type: "section", text: mrkdwn("*ProgramError*\n```\nmain.tf:3: &lt;oops&gt; &amp; `\u200b`\u200b`\n```") },
        { type: "section", text: mrkdwn("<https://dw.example.com/runs/run-1|View this run in the dashboard>") },
      ],
    });
  });

  it("says nothing about suppressed runs when there were none, and says 1 run in the singular", () => {
    const failed = (suppressed: number) => renderRunFailed({ type: "run-failed", subject, error: { kind: "TimeoutError", message: "" }, suppressed });
    expect(all(failed(0))).not.toContain("not alerted");
    expect(all(failed(1))).toContain("1 earlier failed run was not alerted");
    expect(sectionTexts(failed(0))[0]).toBe("*TimeoutError*\n```\n \n```");
  });
});

// --- Slack's limits, whatever the input ---------------------------------------------------------------------------

/** Every limit Slack enforces on what we send (plus our fallback limit); [] when the message is acceptable. */
function limitViolations(message: SlackMessage): string[] {
  const problems: string[] = [];
  const text = (where: string, t: string | undefined, max: number) => {
    if (t === undefined || t.length < 1 || t.length > max) problems.push(`${where}: ${t?.length ?? "no"} chars (1..${max})`);
  };
  if (message.blocks.length > LIMITS.blocks) problems.push(`${message.blocks.length} blocks`);
  text("fallback text", message.text, LIMITS.fallbackText);
  for (const [i, block] of message.blocks.entries()) {
    if (block.type === "header") text(`block ${i} header`, block.text.text, LIMITS.header);
    else if (block.type === "section") text(`block ${i} section`, block.text?.text, LIMITS.sectionText);
    else if (block.type === "context") {
      if (block.elements.length > LIMITS.contextElements) problems.push(`block ${i}: ${block.elements.length} context elements`);
      for (const e of block.elements) text(`block ${i} context`, "text" in e ? e.text : undefined, LIMITS.sectionText);
    } else if (block.type === "actions") {
      if (block.elements.length > 25) problems.push(`block ${i}: ${block.elements.length} elements`);
      for (const e of block.elements) if (e.type === "button") text(`block ${i} button`, e.text.text, 75);
    } else if (block.type !== "divider") problems.push(`block ${i}: unexpected ${block.type}`);
  }
  const serverProblem = blockProblem(message.blocks);
  if (serverProblem) problems.push(serverProblem);
  return problems;
}

/** Text that is well formed for Slack: no half character, no half or bare escape, no markup but ours, balanced code blocks. */
function markupViolations(message: SlackMessage): string[] {
  const plain = message.blocks.flatMap((b) => (b.type === "header" ? [b.text.text] : []));
  const mrkdwnTexts = [message.text, ...sectionTexts(message), ...message.blocks.flatMap((b) => (b.type === "context" ? b.elements.map((e) => ("text" in e ? e.text : "")) : []))];
  const problems: string[] = [];
  for (const t of [...plain, ...mrkdwnTexts]) {
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(t)) problems.push(`lone surrogate in ${t.slice(0, 80)}`);
  }
  for (const t of mrkdwnTexts) {
    if (/&(?!amp;|lt;|gt;)/.test(t)) problems.push(`bare or cut escape in ${t.slice(0, 80)}`);
    const withoutOurs = t.replace(/<(?:https:\/\/[^<>|\s]+\|[^<>]+|!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]+|!subteam\^S0123ABCD|!here)>/g, "");
    if (/[<>]/.test(withoutOurs)) problems.push(`unescaped < or > in ${t.slice(0, 80)}`);
    if (((t.match(/```/g) ?? []).length) % 2 !== 0) problems.push(`unbalanced code block in ${t.slice(0, 80)}`);
  }
  return problems;
}

/** A small deterministic PRNG (mulberry32), so every generated input can be reproduced from its seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces of text that are hard for the renderer: escapes, markup, backticks, multi-byte and broken characters. */
const PIECES = ["a", "Z", "0", " ", ".", "<", ">", "&", "&amp;", "`", "```", "*", "_", "~", "|", "\n", "é", "😀", "👩‍💻", "日本", "\uD800", "\uDC00", "<!channel>"];

function generator(seed: number) {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
  const text = (length: number) => {
    let out = "";
    while (out.length < length) out += pick(PIECES);
    return out;
  };
  // A few huge strings shared by reference: 100 KB values and 10 KB addresses without gigabytes of input.
  const huge = Array.from({ length: 4 }, () => text(1000).repeat(100));
  const long = Array.from({ length: 4 }, () => text(10_000));
  const value = (): unknown => pick([() => pick(huge), () => text(20), () => rnd() * 1000, () => null, () => ({ nested: [pick(huge), text(5)] }), () => "[secret]"])();
  const property = (): PropertyDiff => ({ path: rnd() < 0.1 ? pick(long) : `tags.${text(8)}`, desired: value(), actual: value() });
  const change = (properties: number): ResourceChange => ({
    kind: pick(["drift", "pending"] as const),
    address: rnd() < 0.3 ? pick(long) : rnd() < 0.5 ? `urn:pulumi:dev::app::aws:x::${text(30)}` : `aws_instance.${text(12)}`,
    type: "aws_instance",
    action: pick(["create", "update", "delete", "replace"] as const),
    properties: Array.from({ length: properties }, property),
    ...(rnd() < 0.2 ? { replacePaths: Array.from({ length: 30 }, () => pick(long)) } : {}),
  });
  const hugeSubject: AlertSubject = {
    ...subject,
    verdict: "drifted+pending",
    stack: pick(long),
    engine: text(300),
    path: pick(long),
    runId: text(50),
    repo: `https://github.com/acme/${text(5000).replace(/[^a-z]/g, "") || "x"}`,
    staleSource: pick(huge),
  };
  return { change, hugeSubject, text, pick, huge };
}

const SEEDS = [1, 2, 3, 42, 2026];
const ROOT_TYPES = ["episode-opened", "episode-unchanged", "episode-changed", "episode-resolved"] as const;
const options = { dashboardUrl: "https://dw.example.com/", mention: "<!subteam^S0123ABCD>" };

function rootEvent(type: (typeof ROOT_TYPES)[number], s: AlertSubject, changes: ResourceChange[]): EpisodeEvent {
  const info = { ...episode, closedAt: "2026-11-24T10:00:00.000Z", durationMs: 86_400_000 };
  return type === "episode-changed" ? { type, subject: s, episode: info, changes, added: [], removed: [], modified: [] } : { type, subject: s, episode: info, changes };
}

/** The resource sections' counts must add up: shown + "…and N more" = all. */
function accountedResources(message: SlackMessage): { shown: number; more: number } {
  const texts = sectionTexts(message);
  const shown = texts.filter((t) => /^(✅ )?\*(drift|pending) (create|update|delete|replace)\*/.test(t)).length;
  const more = Number(/^_…and (\d+) more resources?_$/.exec(texts.find((t) => t.startsWith("_…and")) ?? "")?.[1] ?? 0);
  return { shown, more };
}

describe("Slack limits on generated huge inputs", () => {
  it.each(SEEDS)("root messages: 500 resources × 50 properties, 100 KB values, 10 KB addresses (seed %i)", (seed) => {
    const g = generator(seed);
    const changes = Array.from({ length: 500 }, () => g.change(50));
    for (const type of ROOT_TYPES) {
      for (const s of [subject, g.hugeSubject]) {
        const message = renderRoot(rootEvent(type, s, changes), options);
        expect(limitViolations(message)).toEqual([]);
        expect(markupViolations(message)).toEqual([]);
        const { shown, more } = accountedResources(message);
        expect(shown).toBeGreaterThan(0);
        expect(shown + more).toBe(500);
        const resourceTexts = sectionTexts(message).filter((t) => /^(✅ )?\*(drift|pending) /.test(t));
        expect(resourceTexts.join("").length).toBeLessThanOrEqual(RESOURCES_TEXT_BUDGET);
        expect(all(message)).toMatch(/…and \d+ more propert(y|ies)/);
      }
    }
  });

  it.each(SEEDS)("root messages: many small resources fill the blocks, never more (seed %i)", (seed) => {
    const g = generator(seed);
    const changes = Array.from({ length: 500 }, () => ({ ...g.change(0), address: `aws_instance.${g.text(5)}` }));
    for (const type of ROOT_TYPES) {
      const message = renderRoot(rootEvent(type, subject, changes), options);
      expect(limitViolations(message)).toEqual([]);
      expect(markupViolations(message)).toEqual([]);
      expect(message.blocks).toHaveLength(LIMITS.blocks);
      expect(accountedResources(message).shown + accountedResources(message).more).toBe(500);
    }
  });

  it.each(SEEDS)("one resource with 50 huge properties: whole lines, the rest counted (seed %i)", (seed) => {
    const g = generator(seed);
    const one = { ...g.change(50), replacePaths: undefined, action: "update" as const, address: "aws_instance.a" };
    const text = sectionTexts(renderRoot(rootEvent("episode-opened", subject, [one])))[0]!;
    const lines = /```\n([\s\S]*)\n```/.exec(text)![1]!.split("\n");
    const more = Number(/_…and (\d+) more propert(?:y|ies)_$/.exec(text)?.[1] ?? 0);
    expect(lines.length + more).toBe(50);
    expect(text.length).toBeLessThanOrEqual(LIMITS.sectionText);
  });

  it.each(SEEDS)("replies and failures (seed %i)", (seed) => {
    const g = generator(seed);
    const refs = Array.from({ length: 500 }, () => ({ kind: "drift" as const, address: g.pick([g.text(10_000), g.text(20)]), type: "t", action: "update" as const }));
    const messages = [
      renderReply({ type: "episode-changed", subject: g.hugeSubject, episode, changes: [], added: refs, removed: refs, modified: refs }, options),
      renderReply({ type: "episode-resolved", subject: g.hugeSubject, episode: { ...episode, durationMs: 1 }, changes: [] }, options),
      renderRunFailed({ type: "run-failed", subject: g.hugeSubject, error: { kind: g.text(5000), message: g.pick(g.huge) }, suppressed: 12 }, options),
    ];
    for (const message of messages) {
      expect(limitViolations(message)).toEqual([]);
      expect(markupViolations(message)).toEqual([]);
    }
    expect(all(messages[0]!)).toMatch(/…and \d+ more resources/);
  });

  it("the checks themselves catch what they are for", () => {
    const bad: SlackMessage = {
      text: "x".repeat(4001),
      blocks: [
        { type: "header", text: { type: "plain_text", text: "h".repeat(151) } },
        { type: "section", text: { type: "mrkdwn", text: "s".repeat(3001) } },
        { type: "context", elements: Array.from({ length: 11 }, () => mrkdwn("c")) },
        ...Array.from({ length: 47 }, () => ({ type: "divider" as const })),
      ],
    };
    expect(limitViolations(bad)).toHaveLength(5);
    expect(markupViolations({ text: "a &am", blocks: [{ type: "section", text: mrkdwn("\uD83D <b> ```") }] })).toHaveLength(4);
    expect(markupViolations({ text: "ok", blocks: [{ type: "header", text: { type: "plain_text", text: "<&> ``` \uDC00" } }] })).toHaveLength(1);
  });
});

describe("text helpers", () => {
  it("escape and cut without breaking escapes or characters", () => {
    expect(escapeMrkdwn("a<b>&c")).toBe("a&lt;b&gt;&amp;c");
    expect(fitEscaped("<<<<", 10)).toBe("&lt;&lt;…");
    expect(fitEscaped("a<<<", 6)).toBe("a&lt;…");
    expect(fitEscaped("a<<<", 5)).toBe("a…");
    expect(fitEscaped("&&&", 11)).toBe("&amp;&amp;…");
    expect(fitEscaped("😀😀😀", 5)).toBe("😀😀…");
    expect(fitEscaped("😀😀😀", 4)).toBe("😀…");
    expect(fitEscaped("a\uD800b", 10)).toBe("a\uFFFDb");
    expect(cut("😀😀😀", 4)).toBe("😀…");
    expect(cut("abc", 3)).toBe("abc");
    expect(cut("abcd", 3)).toBe("ab…");
  });

  it("says durations the short way", () => {
    expect(duration(45_000)).toBe("45s");
    expect(duration(12 * 60_000)).toBe("12m");
    expect(duration(2 * 3_600_000)).toBe("2h");
    expect(duration(3 * 86_400_000 + 4 * 3_600_000)).toBe("3d 4h");
  });
});

describe("approval request", () => {
  it("says what would be applied and how to approve it, within Slack's limits for any plan size", () => {
    const event = { type: "approval-requested" as const, subject, episode, approval: { id: "0a1b2c3d4e5f", expiresAt: "2026-11-24T10:30:00.000Z" }, changes: [queue, sg] };
    const message = renderApprovalRequested(event, { dashboardUrl: "https://dw.example.com" });
    expect(message.blocks[0]).toMatchObject({ type: "header", text: { text: "🛠️ Approval needed: remediate stack network" } });
    expect(all(message)).toContain("Approve with `driftwatch approve 0a1b2c3d4e5f` or `POST /api/approvals/0a1b2c3d4e5f`");
    expect(all(message)).toContain("*Plan* 2 resources");
    expect(sectionTexts(message).some((t) => t.startsWith("*pending create* `aws_sqs_queue.jobs`"))).toBe(true);
    expect(message.text).toBe("Approval needed to remediate network (terraform): 2 resources; driftwatch approve 0a1b2c3d4e5f");

    const huge = renderApprovalRequested({ ...event, changes: Array.from({ length: 300 }, (_, i) => ({ ...sg, address: `aws_security_group.sg${i}` })) });
    expect(huge.blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
    expect(blockProblem(huge.blocks)).toBeUndefined();
    expect(sectionTexts(huge).at(-1)).toMatch(/^_…and \d+ more resources_$/);
  });
});

describe("flapping", () => {
  it("flags resources that keep drifting again in the root message, with the ignore rule that would end it", () => {
    const flapping = [
      { address: "aws_security_group.web", type: "aws_security_group", times: 4, since: "2026-11-23T08:00:00.000Z", paths: ["tags.LastScanned", "ingress[0].cidr_blocks"] },
      { address: "aws_s3_bucket.gone", type: "aws_s3_bucket", times: 3, since: "2026-11-23T09:00:00.000Z", paths: [] },
    ];
    const message = renderRoot({ type: "episode-opened", subject, episode: { ...episode, seenCount: 1 }, changes: [sg], flapping });
    const text = sectionTexts(message).find((t) => t.startsWith("🔁 *Flapping*"))!;
    expect(text).toContain("• `aws_security_group.web` started drifting 4 times since <!date^");
    expect(text).toContain("• `aws_s3_bucket.gone` started drifting 3 times");
    expect(text).toContain('```\nignore:\n  - { type: "aws_security_group", paths: ["ingress[0].cidr_blocks", "tags.LastScanned"] }\n```');
    expect(renderRoot({ type: "episode-opened", subject, episode, changes: [sg] }).blocks.some((b) => JSON.stringify(b).includes("Flapping"))).toBe(false);

    const many = Array.from({ length: 300 }, (_, i) => ({ ...flapping[0]!, address: `aws_security_group.${"x".repeat(200)}${i}`, paths: [`tags.${"k".repeat(100)}${i}`] }));
    const huge = renderRoot({ type: "episode-unchanged", subject, episode, changes: [sg], flapping: many });
    expect(limitViolations(huge)).toEqual([]);
    expect(markupViolations(huge)).toEqual([]);
    expect(sectionTexts(huge).find((t) => t.startsWith("🔁"))).toMatch(/_…and \d+ more resources_/);
  });
});

describe("remediation needs attention", () => {
  it("says remediation is paused, how often it failed, and the last reason", () => {
    const message = renderNeedsAttention({ type: "remediation-needs-attention", subject, episode, failures: 5, reason: "StackLockedError: stack network is locked by another operation" });
    expect(message.blocks[0]).toMatchObject({ type: "header", text: { text: "🧯 Remediation paused: stack network needs attention" } });
    expect(all(message)).toContain("*Failed* 5 times in a row");
    expect(all(message)).toContain("StackLockedError: stack network is locked by another operation");
    expect(blockProblem(message.blocks)).toBeUndefined();
    expect(message.text).toBe("Remediation of network paused after 5 failures: StackLockedError: stack network is locked by another operation");
  });
});

describe("report digest", () => {
  const digest = {
    name: "weekly",
    period: { from: "2026-11-23T09:00:00.000Z", to: "2026-11-30T09:00:00.000Z" },
    posture: {
      stacks: 4,
      byVerdict: { "in-sync": 1, drifted: 1, pending: 0, "drifted+pending": 1, error: 1, "never-checked": 0 },
      inSyncShare: 0.25,
      openEpisodes: 2,
      awaitingApproval: 1,
      oldestOpenEpisode: { stack: "net", episodeId: 7, openedAt: "2026-11-20T00:00:00.000Z", ageMs: 10 * 86_400_000 },
      stale: 1,
    },
    episodes: { opened: 3, resolved: 2, stillOpen: 2, medianTimeInDriftMs: 2 * 3_600_000, medianTimeToDetectMs: 15 * 60_000 },
    checks: { runs: 2688, errors: 12 },
    remediation: { decisions: 5, applied: 3, refused: 2 },
    topOffenders: [
      { stack: "net", episodes: 1, timeInDriftMs: 7 * 86_400_000 },
      { stack: "<!channel> & *web*", episodes: 2, timeInDriftMs: 5 * 3_600_000 },
    ],
  };

  it("says the posture, the period's numbers and the top offenders in a few blocks, with a link to the report", () => {
    const message = renderReportDigest(
      { type: "report-digest", report: { id: "weekly-20261130T0900Z", name: "weekly", url: "https://dw.example.com/reports/weekly-20261130T0900Z" }, digest },
      {},
    );
    expect(blockProblem(message.blocks)).toBeUndefined();
    expect(message.blocks.length).toBeLessThanOrEqual(6);
    expect(message.text).toBe("Drift report weekly: 25% of 4 stacks in sync, 3 episodes opened, 2 open");
    const text = JSON.stringify(message.blocks);
    expect(text).toContain("2 drifted or pending");
    expect(text).toContain("oldest: net, 10d");
    expect(text).toContain("Time in drift (median) 2h · time to detect (median) 15m");
    expect(text).toContain("2688 checks · 12 errors · remediation: 3 applied, 2 refused of 5");
    expect(text).toContain("net: 7d in 1 episode");
    // A stack name cannot mention a channel or open a link.
    expect(text).toContain("&lt;!channel&gt; &amp; *web*: 5h in 2 episodes");
    expect(text).toContain("<https://dw.example.com/reports/weekly-20261130T0900Z|Open the full report>");
  });

  it("says so when nothing drifted, and links nowhere without a dashboard", () => {
    const calm = { ...digest, topOffenders: [], episodes: { opened: 0, resolved: 0, stillOpen: 0 } };
    const message = renderReportDigest({ type: "report-digest", report: { id: "weekly-1", name: "weekly" }, digest: calm });
    const text = JSON.stringify(message.blocks);
    expect(text).toContain("none: no stack drifted this period");
    expect(text).toContain("Time in drift (median) –");
    expect(text).not.toContain("Open the full report");
  });
});

describe("buttons", () => {
  const actionBlocks = (m: SlackMessage) => m.blocks.filter((b) => b.type === "actions");
  const elementsOf = (m: SlackMessage) => actionBlocks(m).flatMap((b) => (b.type === "actions" ? b.elements : []));
  const flapping = [{ address: "aws_security_group.web", type: "aws_security_group", times: 4, since: "2026-11-23T08:00:00.000Z", paths: ["tags.LastScanned"] }];

  it("are on an open episode's root only when the service takes presses: re-check, acknowledge, snooze; show the ignore rule when flapping", () => {
    const event = { type: "episode-opened" as const, subject, episode, changes: [sg], flapping };
    expect(actionBlocks(renderRoot(event, {}))).toEqual([]);
    const message = renderRoot(event, { interactive: true });
    expect(elementsOf(message)).toMatchObject([
      { type: "button", action_id: ACTION.recheck, value: "7", text: { text: "Re-check now" } },
      { type: "button", action_id: ACTION.acknowledge, value: "7" },
      { type: "static_select", action_id: ACTION.snooze, options: [{ value: "7:1h" }, { value: "7:1d" }, { value: "7:1w" }] },
      { type: "button", action_id: ACTION.ignoreRule, value: "7", text: { text: "Show the ignore rule" } },
    ]);
    expect(blockProblem(message.blocks)).toBeUndefined();
    for (const type of ["episode-resolved", "episode-changed"] as const) {
      const other = renderRoot(type === "episode-changed" ? { ...event, type, added: [], removed: [], modified: [] } : { ...event, type, episode: { ...episode, closedAt: subject.checkedAt, durationMs: 1 } }, { interactive: true });
      expect(actionBlocks(other).length).toBe(type === "episode-resolved" ? 0 : 2);
    }
  });

  it("say who is on an episode and until when it is snoozed; acknowledging is offered until someone has", () => {
    const by = { id: "UALICE1", name: "alice" };
    const message = renderRoot(
      { type: "episode-noted", note: "snoozed", by, subject, episode: { ...episode, acknowledged: { by, at: episode.openedAt }, snooze: { by, at: episode.openedAt, until: "2026-11-23T11:00:00.000Z" } }, changes: [sg] },
      { interactive: true },
    );
    expect(all(message)).toContain(`👀 <@UALICE1> is on it (since ${OPENED_AT})`);
    expect(all(message)).toContain("💤 Snoozed by <@UALICE1> until <!date^1795431600^");
    expect(elementsOf(message).map((e) => e.action_id)).toEqual([ACTION.recheck, ACTION.snooze]);
    // An id that is not a Slack user id is shown as an escaped name, never as markup.
    const odd = renderRoot({ type: "episode-unchanged", subject, episode: { ...episode, acknowledged: { by: { id: "<!channel>", name: "<!here> eve" }, at: episode.openedAt } }, changes: [sg] });
    expect(all(odd)).toContain("👀 &lt;!here&gt; eve is on it");
  });

  it("on an approval request: approve (confirmed first) and reject, naming the approval; spent, they are taken off and the outcome added", () => {
    const event = { type: "approval-requested" as const, subject, episode, approval: { id: "0a1b2c3d4e5f", expiresAt: "2026-11-24T10:30:00.000Z" }, changes: [queue] };
    expect(actionBlocks(renderApprovalRequested(event))).toEqual([]);
    const message = renderApprovalRequested(event, { interactive: true });
    expect(elementsOf(message)).toMatchObject([
      { action_id: ACTION.approve, value: "0a1b2c3d4e5f", style: "primary", confirm: { confirm: { text: "Approve and apply" } } },
      { action_id: ACTION.reject, value: "0a1b2c3d4e5f", style: "danger" },
    ]);
    const someoneElses = { type: "actions", block_id: "not-ours", elements: [] };
    const spent = withOutcome({ text: message.text, blocks: [...message.blocks, someoneElses] }, "✅ Approved by <@UALICE1>");
    expect(spent.text).toBe(message.text);
    expect(spent.blocks.filter((b) => b.type === "actions")).toEqual([someoneElses]);
    expect(sectionTexts(spent).at(-1)).toBe("✅ Approved by <@UALICE1>");
    const full = withOutcome({ text: "", blocks: Array.from({ length: 50 }, () => ({ type: "divider" })) }, "done");
    expect(full.blocks).toHaveLength(50);
    expect(full.text).toBe("done");
  });

  it("keep every message within Slack's limits, however many resources", () => {
    const changes = Array.from({ length: 500 }, (_, i) => ({ ...sg, address: `aws_instance.i${i}` }));
    for (const type of ROOT_TYPES) {
      const message = renderRoot({ ...rootEvent(type, subject, changes), flapping }, { ...options, interactive: true });
      expect(limitViolations(message)).toEqual([]);
      expect(blockProblem(message.blocks)).toBeUndefined();
    }
  });
});
