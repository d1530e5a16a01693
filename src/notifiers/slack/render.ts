// Block Kit messages for alerts, separate from sending them. Every event arrives already masked and redacted
// (src/notifiers/redaction.ts); this module only decides what is shown and keeps it within Slack's limits
// whatever the input: at most 50 blocks, 3,000 characters per section or context text, 150 per header, 10 context
// elements, a `text` fallback of at most 4,000. Every piece of input text has a budget counted after escaping, so
// nothing is ever cut inside an escape (`&amp;`) or a character; what does not fit becomes "…and N more".
import type { ActionsBlock, Button, ContextBlock, DividerBlock, HeaderBlock, KnownBlock, SectionBlock, StaticSelect } from "@slack/web-api";
import { formatDuration } from "../../core/durations.ts";
import { formatChanger, formatValue, plural, shortAddress } from "../../core/present.ts";
import type { FlappingResource, PropertyDiff, ResourceChange, Verdict } from "../../core/types.ts";
import { ignoreRulesYaml, suggestedIgnoreRules } from "../../core/flapping.ts";
import type { AlertEvent, AlertSubject, ChangeRef } from "../../core/alerts.ts";
import { commitUrl, shortSha } from "../commit-link.ts";
import { ACTION, ACTIONS_BLOCK_PREFIX, SNOOZE_OPTIONS, snoozeOptionValue } from "./actions.ts";

export interface SlackMessage {
  /** The plain-text fallback: notifications, screen readers, clients without Block Kit. */
  text: string;
  blocks: KnownBlock[];
}

export interface RenderOptions {
  /** The dashboard's public URL; messages link to the run there. */
  dashboardUrl?: string;
  /** Put in front of the root message of a new episode only, e.g. "<!subteam^S0123ABCD>" or "<!here>"; sent as is. */
  mention?: string;
  /** Add the buttons (the service takes their presses: alerts.slack has a signing secret). */
  interactive?: boolean;
}

export type EpisodeEvent = Exclude<AlertEvent, { type: "run-failed" | "approval-requested" | "remediation-needs-attention" | "report-digest" }>;
export type ApprovalRequestedEvent = Extract<AlertEvent, { type: "approval-requested" }>;
export type ReplyEvent = Extract<AlertEvent, { type: "episode-changed" | "episode-resolved" }>;
export type RunFailedEvent = Extract<AlertEvent, { type: "run-failed" }>;

/** What Slack accepts (the fallback: what we keep notifications to; Slack itself truncates at 40,000). */
export const LIMITS = { blocks: 50, sectionText: 3000, header: 150, contextElements: 10, fallbackText: 4000 } as const;

/** All resource sections of one message together: a notification, not a report (the dashboard has the rest). */
export const RESOURCES_TEXT_BUDGET = 12_000;

/** Budgets of the pieces of input text, in characters after escaping. */
const MAX = {
  name: 150,
  address: 300,
  path: 150,
  value: 300,
  replacePaths: 500,
  staleSource: 500,
  /** A failure's message in its code block. */
  message: 2500,
} as const;

/** Room kept in a resource section for "…and N more properties". */
const MORE_LINE_RESERVE = 40;

// --- text ---------------------------------------------------------------------------------------------------------

/** A lone UTF-16 surrogate (invalid text from the input) is shown as U+FFFD. */
function wellFormed(ch: string): string {
  return ch.length === 1 && ch >= "\uD800" && ch <= "\uDFFF" ? "\uFFFD" : ch;
}

/** `text` with every lone surrogate replaced by U+FFFD (what `encodeURIComponent` needs). */
function wellFormedText(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** Slack's three control characters in mrkdwn, escaped (`&amp;`, `&lt;`, `&gt;`). */
export function escapeMrkdwn(text: string): string {
  return fitEscaped(text, Number.POSITIVE_INFINITY);
}

/** `raw` escaped and cut so the result has at most `max` characters, "…" included: whole characters and escapes only. */
export function fitEscaped(raw: string, max: number): string {
  let out = "";
  for (const ch of raw) {
    const piece = wellFormed(ch).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    if (out.length + piece.length > max) return cutTail(out, max);
    out += piece;
  }
  return out;
}

/** Where to cut `text` to leave room for "…" within `max`: never between the two halves of a surrogate pair. */
function cutPoint(text: string, max: number): number {
  const end = Math.max(0, Math.min(text.length, max - 1));
  const high = end > 0 && text.charCodeAt(end - 1) >= 0xd800 && text.charCodeAt(end - 1) <= 0xdbff;
  return high ? end - 1 : end;
}

/** Escaped text shortened to end in "…" within `max`: never inside a character or an escape (`&amp;`, `&lt;`, `&gt;`). */
function cutTail(text: string, max: number): string {
  let end = cutPoint(text, max);
  const amp = text.lastIndexOf("&", end - 1);
  if (amp !== -1 && amp > end - 5 && !text.slice(amp, end).includes(";")) end = amp;
  return `${text.slice(0, end)}…`;
}

/** Plain text (headers: no escaping) of at most `max` characters, whole characters only, "…" when cut. */
export function cut(text: string, max: number): string {
  let out = "";
  for (const ch of text) {
    if (out.length + ch.length > max) return `${out.slice(0, cutPoint(out, max))}…`;
    out += wellFormed(ch);
  }
  return out;
}

/** Escaped text built within budget, cut only as a last resort (never inside an escape or a character). */
function fitMrkdwn(text: string, max: number): string {
  return text.length > max ? cutTail(text, max) : text;
}

const CONTROL_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Text on one line: control characters (newlines, tabs, …) shown as their JSON escapes. */
function oneLine(raw: string): string {
  return raw.replace(/[\u0000-\u001f\u007f]/g, (ch) => CONTROL_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** No two backticks in a row (a zero-width space between them): input can never open or close a code block. */
function breakFences(raw: string): string {
  return raw.replace(/`(?=`)/g, "`\u200b");
}

/** A name, kind or short message in mrkdwn: on one line, escaped, within `max`. */
function inline(raw: string, max: number): string {
  return fitEscaped(breakFences(oneLine(raw)), max);
}

/** Inline code: a backtick inside would end it, so it is shown as a look-alike. */
function inlineCode(raw: string, max: number): string {
  return `\`${inline(raw.replace(/`/g, "ˋ"), max) || " "}\``;
}

/** Text for inside a ``` block: nothing can close the block early. */
function codeText(raw: string, max: number): string {
  return fitEscaped(breakFences(raw), max);
}

function moreLine(n: number, what: "properties" | "resources"): string {
  const noun = n !== 1 ? what : what === "properties" ? "property" : "resource";
  return `_…and ${n} more ${noun}_`;
}

function timesSeen(n: number): string {
  return n === 1 ? "once" : `${n} times`;
}

/** A date Slack shows in the reader's time zone, with the ISO time as fallback. */
function when(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return Number.isFinite(seconds) ? `<!date^${seconds}^{date_short_pretty} {time}|${inline(iso, 40)}>` : inline(iso, 40);
}

/** 45s, 12m, 2h 15m, 3d 4h: as every report shows durations. */
export const duration = formatDuration;

/** A URL as the target of a `<url|label>` link: the characters that would end the link percent-encoded. */
function linkTarget(url: string): string {
  return url.replace(/[<>|\s]/g, (ch) => encodeURIComponent(ch));
}

// --- blocks -------------------------------------------------------------------------------------------------------

function header(text: string): HeaderBlock {
  return { type: "header", text: { type: "plain_text", text: cut(oneLine(text), LIMITS.header), emoji: true } };
}

/** A section of mrkdwn built within budget; the cut is only a last resort that never splits an escape. */
function section(text: string): SectionBlock {
  return { type: "section", text: { type: "mrkdwn", text: fitMrkdwn(text, LIMITS.sectionText) } };
}

function context(parts: readonly string[]): ContextBlock {
  const elements = parts.slice(0, LIMITS.contextElements).map((text) => ({ type: "mrkdwn" as const, text: fitMrkdwn(text, LIMITS.sectionText) }));
  return { type: "context", elements };
}

const divider: DividerBlock = { type: "divider" };

function button(actionId: string, label: string, value: string, style?: "primary" | "danger"): Button {
  return { type: "button", action_id: actionId, text: { type: "plain_text", text: label, emoji: true }, value, ...(style ? { style } : {}) };
}

function actions(name: string, elements: ActionsBlock["elements"]): ActionsBlock {
  return { type: "actions", block_id: `${ACTIONS_BLOCK_PREFIX}-${name}`, elements };
}

/** A Slack user as a mention when the id looks like one (ids come from Slack), else their name as text. */
export function personText(person: { id: string; name: string }): string {
  return /^[UW][A-Z0-9]{2,30}$/.test(person.id) ? `<@${person.id}>` : inline(person.name, MAX.name);
}

function runUrl(options: RenderOptions, subject: AlertSubject): string | undefined {
  if (!options.dashboardUrl) return undefined;
  return `${options.dashboardUrl.replace(/\/+$/, "")}/runs/${encodeURIComponent(wellFormedText(subject.runId))}`;
}

/** The dashboard link as the message's last block, when a dashboard is configured. */
function withDashboardLink(blocks: KnownBlock[], options: RenderOptions, subject: AlertSubject): KnownBlock[] {
  const url = runUrl(options, subject);
  return url && url.length <= 2000 ? [...blocks, section(`<${linkTarget(url)}|View this run in the dashboard>`)] : blocks;
}

// --- facts --------------------------------------------------------------------------------------------------------

function stackName(subject: AlertSubject): string {
  return inline(subject.stack, MAX.name);
}

/** The short SHA, linked to the forge's commit page when there is one. */
function commitText(subject: AlertSubject): string {
  if (!subject.commit) return "unknown";
  const url = commitUrl(subject.repo, subject.commit);
  return url && url.length <= 1000 ? `<${url}|${fitEscaped(shortSha(subject.commit), 12)}>` : inlineCode(shortSha(subject.commit), 40);
}

function counts(changes: readonly ResourceChange[]): { drift: number; pending: number } {
  return { drift: changes.filter((c) => c.kind === "drift").length, pending: changes.filter((c) => c.kind === "pending").length };
}

function staleWarning(subject: AlertSubject): string[] {
  return subject.staleSource ? [`⚠️ *Stale source* (remote unreachable, last fetch used): ${inline(subject.staleSource, MAX.staleSource)}`] : [];
}

/** Engine, (verdict,) commit and path: what a message says about its stack's run. */
function subjectFacts(subject: AlertSubject, withVerdict: boolean): string[] {
  const verdict = withVerdict ? [`*Verdict* ${inline(subject.verdict, MAX.name)}`] : [];
  return [`*Engine* ${inline(subject.engine, MAX.name)}`, ...verdict, `*Commit* ${commitText(subject)}`, `*Path* ${inlineCode(subject.path, MAX.path)}`];
}

function statusLine(event: EpisodeEvent): string {
  const e = event.episode;
  switch (event.type) {
    case "episode-opened":
      return `First seen ${when(e.openedAt)}`;
    case "episode-resolved":
      return `Resolved after ${duration(e.durationMs ?? 0)} (seen ${timesSeen(e.seenCount)}) · ${when(e.closedAt ?? event.subject.checkedAt)}`;
    default:
      return `Still ${event.subject.verdict === "pending" ? "pending" : "drifted"} · last checked ${when(event.subject.checkedAt)} · seen ${timesSeen(e.seenCount)}`;
  }
}

// --- resources ----------------------------------------------------------------------------------------------------

/** `*drift update* \`aws_instance.web\``, marked when the episode is resolved. */
function resourceTitle(change: Pick<ResourceChange, "kind" | "action" | "address">, resolved: boolean): string {
  const title = `*${inline(change.kind, 20)} ${inline(change.action, 20)}* ${inlineCode(shortAddress(change.address), MAX.address)}`;
  return resolved ? `✅ ${title} · _resolved_` : title;
}

/** Items joined by `separator` within `max` characters; the rest counted, never cut. Formats lazily. */
function fitItems<T>(items: readonly T[], format: (item: T) => string, separator: string, max: number): { shown: string[]; omitted: number } {
  const shown: string[] = [];
  let used = 0;
  for (const item of items) {
    const text = format(item);
    const cost = (shown.length > 0 ? separator.length : 0) + text.length;
    if (used + cost > max) break;
    shown.push(text);
    used += cost;
  }
  return { shown, omitted: items.length - shown.length };
}

/** Under a resource title: where it moved from, or which properties force its replacement. */
function changeNote(change: ResourceChange): string {
  if (change.previousAddress) return `\nmoved from ${inlineCode(shortAddress(change.previousAddress), MAX.address)}`;
  if (change.action !== "replace" || !change.replacePaths?.length) return "";
  const { shown, omitted } = fitItems(change.replacePaths, (p) => inlineCode(p, MAX.path), ", ", MAX.replacePaths);
  return `\nreplaced because of ${shown.join(", ")}${omitted > 0 ? ` …and ${omitted} more` : ""}`;
}

/** `path: desired → actual`, values as the CLI shows them (JSON, "(none)" when absent). */
function propertyLine(p: PropertyDiff): string {
  const by = p.changedBy ? `  (by ${codeText(oneLine(formatChanger(p.changedBy)), MAX.path)})` : "";
  return `${codeText(oneLine(p.path), MAX.path)}: ${codeText(formatValue(p.desired, Number.POSITIVE_INFINITY), MAX.value)} → ${codeText(formatValue(p.actual, Number.POSITIVE_INFINITY), MAX.value)}${by}`;
}

/** One resource: its title, and its property diffs in a code block as far as they fit in one section. */
function resourceText(change: ResourceChange, resolved: boolean): string {
  const head = resourceTitle(change, resolved) + changeNote(change);
  const room = LIMITS.sectionText - head.length - "\n```\n\n```".length - MORE_LINE_RESERVE;
  const { shown, omitted } = fitItems(change.properties, propertyLine, "\n", room);
  const diffs = shown.length > 0 ? `\n\`\`\`\n${shown.join("\n")}\n\`\`\`` : "";
  return `${head}${diffs}${omitted > 0 ? `\n${moreLine(omitted, "properties")}` : ""}`;
}

/** Whole resources while blocks and the message's budget last, then "…and N more resources" (within `maxBlocks`). */
function resourceSections(changes: readonly ResourceChange[], resolved: boolean, maxBlocks: number): SectionBlock[] {
  const blocks: SectionBlock[] = [];
  let chars = 0;
  for (const [i, change] of changes.entries()) {
    const last = i === changes.length - 1;
    if (blocks.length >= (last ? maxBlocks : maxBlocks - 1)) break;
    const text = resourceText(change, resolved);
    if (blocks.length > 0 && chars + text.length > RESOURCES_TEXT_BUDGET) break;
    blocks.push(section(text));
    chars += text.length;
  }
  const omitted = changes.length - blocks.length;
  return omitted > 0 ? [...blocks, section(moreLine(omitted, "resources"))] : blocks;
}

// --- root message -------------------------------------------------------------------------------------------------

const TITLES: Record<Verdict, { icon: string; title: string }> = {
  drifted: { icon: "🔴", title: "Drift" },
  pending: { icon: "🟡", title: "Pending changes" },
  "drifted+pending": { icon: "🔴", title: "Drift and pending changes" },
  "in-sync": { icon: "✅", title: "In sync" },
  error: { icon: "⚠️", title: "Could not check" },
};

function rootTitle(event: EpisodeEvent): string {
  const stack = event.subject.stack;
  if (event.type === "episode-resolved") return `✅ Resolved: stack ${stack} is back in sync`;
  const { icon, title } = TITLES[event.subject.verdict];
  return `${icon} ${title} in stack ${stack}`;
}

function countsText(changes: readonly ResourceChange[], resolved: boolean): string {
  const n = counts(changes);
  return `*${resolved ? "Last seen" : "Resources"}* ${n.drift} drifted · ${n.pending} pending`;
}

function rootSummary(event: EpisodeEvent): string {
  const s = event.subject;
  const n = counts(event.changes);
  const at = s.commit ? ` at ${fitEscaped(shortSha(s.commit), 12)}` : "";
  if (event.type === "episode-resolved") {
    return `Resolved: ${stackName(s)} (${inline(s.engine, MAX.name)}) is in sync again after ${duration(event.episode.durationMs ?? 0)}`;
  }
  const stale = s.staleSource ? " (stale source)" : "";
  return `${TITLES[s.verdict].title} in ${stackName(s)} (${inline(s.engine, MAX.name)}): ${n.drift} drifted, ${n.pending} pending ${n.drift + n.pending === 1 ? "resource" : "resources"}${at}${stale}`;
}

/** Who is on the episode, and whether its updates are held back: the root's line about people. */
function peopleLine(event: EpisodeEvent): string[] {
  const e = event.episode;
  const parts: string[] = [];
  if (e.acknowledged) parts.push(`👀 ${personText(e.acknowledged.by)} is on it (since ${when(e.acknowledged.at)})`);
  if (e.snooze && event.type !== "episode-resolved") parts.push(`💤 Snoozed by ${personText(e.snooze.by)} until ${when(e.snooze.until)}: updates are held back unless the drift changes`);
  return parts.length > 0 ? [parts.join(" · ")] : [];
}

/** The root's buttons while the episode is open: re-check, acknowledge (until someone has), snooze. */
function episodeActions(event: EpisodeEvent): ActionsBlock {
  const id = String(event.episode.id);
  const snooze: StaticSelect = {
    type: "static_select",
    action_id: ACTION.snooze,
    placeholder: { type: "plain_text", text: "Snooze for…", emoji: true },
    options: SNOOZE_OPTIONS.map((o) => ({ text: { type: "plain_text", text: o.label, emoji: true }, value: snoozeOptionValue(event.episode.id, o.value) })),
  };
  return actions("episode", [
    button(ACTION.recheck, "Re-check now", id),
    ...(event.episode.acknowledged ? [] : [button(ACTION.acknowledge, "Acknowledge", id)]),
    snooze,
  ]);
}

/** Resources that keep drifting again: who else owns them? And the ignore rule that would end the churn. */
function flappingSection(flapping: readonly FlappingResource[]): SectionBlock {
  const intro = "🔁 *Flapping*: these resources keep drifting again after being put right; something besides Git may own them.";
  const items = fitItems(flapping, (f) => `• ${inlineCode(shortAddress(f.address), MAX.address)} started drifting ${f.times} times since ${when(f.since)}`, "\n", 1200);
  const list = [...items.shown, ...(items.omitted > 0 ? [moreLine(items.omitted, "resources")] : [])].join("\n");
  const rules = suggestedIgnoreRules(flapping);
  const suggestion = rules.length === 0 ? "" : `\nIf so, an ignore rule in the stack's config ends the churn:\n\`\`\`\n${codeText(ignoreRulesYaml(rules), 1200)}\n\`\`\``;
  return section(`${intro}\n${list}${suggestion}`);
}

/** The root message of an episode: posted when it opens, updated in place afterwards, resolved at the end. */
export function renderRoot(event: EpisodeEvent, options: RenderOptions = {}): SlackMessage {
  const s = event.subject;
  const resolved = event.type === "episode-resolved";
  const mention = event.type === "episode-opened" && options.mention ? options.mention : undefined;
  const blocks: KnownBlock[] = [header(rootTitle(event))];
  if (mention) blocks.push(section(`${mention} new ${s.verdict === "pending" ? "pending changes" : "drift"} in stack *${stackName(s)}*`));
  blocks.push(context([...subjectFacts(s, true), countsText(event.changes, resolved), statusLine(event), ...staleWarning(s)]));
  const people = peopleLine(event);
  if (people.length > 0) blocks.push(context(people));
  if (options.interactive && !resolved) blocks.push(episodeActions(event));
  blocks.push(resolved ? context([`✅ Resolved: the last changes seen before stack ${stackName(s)} got back in sync`]) : divider);
  if (event.flapping?.length) {
    blocks.push(flappingSection(event.flapping));
    if (options.interactive && !resolved && suggestedIgnoreRules(event.flapping).length > 0) {
      blocks.push(actions("flapping", [button(ACTION.ignoreRule, "Show the ignore rule", String(event.episode.id))]));
    }
  }
  const linkBlocks = options.dashboardUrl ? 1 : 0;
  blocks.push(...resourceSections(event.changes, resolved, LIMITS.blocks - blocks.length - linkBlocks));
  const text = fitMrkdwn(`${mention ? `${mention} ` : ""}${rootSummary(event)}`, LIMITS.fallbackText);
  return { text, blocks: withDashboardLink(blocks, options, s) };
}

// --- thread replies -----------------------------------------------------------------------------------------------

function refLine(ref: ChangeRef): string {
  return `• ${inline(ref.kind, 20)} ${inline(ref.action, 20)} ${inlineCode(shortAddress(ref.address), MAX.address)}`;
}

/** "*New in the divergence* (2)" and one line per resource, as many as fit in a section; the rest counted. */
function refGroup(title: string, refs: readonly ChangeRef[]): SectionBlock[] {
  if (refs.length === 0) return [];
  const head = `*${title}* (${refs.length})\n`;
  const { shown, omitted } = fitItems(refs, refLine, "\n", LIMITS.sectionText - head.length - MORE_LINE_RESERVE);
  return [section(`${head}${shown.join("\n")}${omitted > 0 ? `\n${moreLine(omitted, "resources")}` : ""}`)];
}

function renderChanged(event: Extract<ReplyEvent, { type: "episode-changed" }>, options: RenderOptions): SlackMessage {
  const s = event.subject;
  const blocks: KnownBlock[] = [
    section(`🔄 *The drift in stack ${stackName(s)} changed* · checked ${when(s.checkedAt)} · seen ${timesSeen(event.episode.seenCount)}`),
    ...refGroup("New in the divergence", event.added),
    ...refGroup("No longer diverging", event.removed),
    ...refGroup("Diffs changed", event.modified),
  ];
  const summary = `Drift in ${stackName(s)} changed: ${event.added.length} new, ${event.removed.length} no longer diverging, ${event.modified.length} with changed diffs`;
  return { text: fitMrkdwn(summary, LIMITS.fallbackText), blocks: withDashboardLink(blocks, options, s) };
}

function renderResolvedReply(event: Extract<ReplyEvent, { type: "episode-resolved" }>, options: RenderOptions): SlackMessage {
  const s = event.subject;
  const after = duration(event.episode.durationMs ?? 0);
  const text = `✅ Back in sync after ${after} (seen ${timesSeen(event.episode.seenCount)}) · checked ${when(s.checkedAt)} at commit ${commitText(s)}`;
  return { text: fitMrkdwn(`${stackName(s)} is back in sync after ${after}`, LIMITS.fallbackText), blocks: withDashboardLink([section(text)], options, s) };
}

/** A reply in the episode's thread: what changed within it, or that it is over. */
export function renderReply(event: ReplyEvent, options: RenderOptions = {}): SlackMessage {
  return event.type === "episode-changed" ? renderChanged(event, options) : renderResolvedReply(event, options);
}

// --- failures -----------------------------------------------------------------------------------------------------

/** A stack that could not be checked: a separate, unthreaded message. */
export function renderRunFailed(event: RunFailedEvent, options: RenderOptions = {}): SlackMessage {
  const s = event.subject;
  const facts = [...subjectFacts(s, false), `*When* ${when(s.checkedAt)}`, ...staleWarning(s)];
  if (event.suppressed > 0) facts.push(`${plural(event.suppressed, "earlier failed run was", "earlier failed runs were")} not alerted`);
  const kind = inline(event.error.kind, MAX.name);
  const blocks: KnownBlock[] = [
    header(`⚠️ Could not check stack ${s.stack}`),
    context(facts),
    section(`*${kind}*\n\`\`\`\n${codeText(event.error.message, MAX.message) || " "}\n\`\`\``),
  ];
  const summary = `Could not check ${stackName(s)} (${inline(s.engine, MAX.name)}): ${kind}: ${inline(event.error.message, 300)}`;
  return { text: fitMrkdwn(summary, LIMITS.fallbackText), blocks: withDashboardLink(blocks, options, s) };
}

/** Approve (with Slack's confirmation dialog: it changes infrastructure) and reject. */
function approvalActions(event: ApprovalRequestedEvent): ActionsBlock {
  const approve = button(ACTION.approve, "Approve and apply", event.approval.id, "primary");
  approve.confirm = {
    title: { type: "plain_text", text: "Apply this plan?" },
    text: { type: "mrkdwn", text: cut(`Driftwatch plans stack ${event.subject.stack} again and applies the plan only if it is still the one shown, within every guard.`, 300) },
    confirm: { type: "plain_text", text: "Approve and apply" },
    deny: { type: "plain_text", text: "Cancel" },
  };
  return actions("approval", [approve, button(ACTION.reject, "Reject", event.approval.id, "danger")]);
}

/** A remediation plan that waits for approval: what would be applied, and how to approve it. */
export function renderApprovalRequested(event: ApprovalRequestedEvent, options: RenderOptions = {}): SlackMessage {
  const s = event.subject;
  const id = inline(event.approval.id, MAX.name);
  const blocks: KnownBlock[] = [
    header(`🛠️ Approval needed: remediate stack ${s.stack}`),
    context([...subjectFacts(s, false), `*Plan* ${plural(event.changes.length, "resource", "resources")}`, `*Expires* ${when(event.approval.expiresAt)}`]),
    section(`Driftwatch would apply this plan to bring *${stackName(s)}* back to Git. Approve with \`driftwatch approve ${id}\` or \`POST /api/approvals/${id}\`; the approval applies only while the plan stays the same.`),
    ...(options.interactive ? [approvalActions(event)] : []),
    divider,
  ];
  const linkBlocks = options.dashboardUrl ? 1 : 0;
  blocks.push(...resourceSections(event.changes, false, LIMITS.blocks - blocks.length - linkBlocks));
  const summary = `Approval needed to remediate ${stackName(s)} (${inline(s.engine, MAX.name)}): ${plural(event.changes.length, "resource", "resources")}; driftwatch approve ${id}`;
  return { text: fitMrkdwn(summary, LIMITS.fallbackText), blocks: withDashboardLink(blocks, options, s) };
}

type NeedsAttentionEvent = Extract<AlertEvent, { type: "remediation-needs-attention" }>;

/** Automatic remediation gave up after failing again and again: a person has to look. */
export function renderNeedsAttention(event: NeedsAttentionEvent, options: RenderOptions = {}): SlackMessage {
  const s = event.subject;
  const blocks: KnownBlock[] = [
    header(`🧯 Remediation paused: stack ${s.stack} needs attention`),
    context([...subjectFacts(s, false), `*Failed* ${plural(event.failures, "time", "times")} in a row`]),
    section(`Automatic remediation of *${stackName(s)}* is paused until the stack is in sync again.\n\`\`\`\n${codeText(event.reason, MAX.message) || " "}\n\`\`\``),
  ];
  const summary = `Remediation of ${stackName(s)} paused after ${plural(event.failures, "failure", "failures")}: ${inline(event.reason, 300)}`;
  return { text: fitMrkdwn(summary, LIMITS.fallbackText), blocks: withDashboardLink(blocks, options, s) };
}

// --- report digests -----------------------------------------------------------------------------------------------

type ReportDigestEvent = Extract<AlertEvent, { type: "report-digest" }>;

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

function maybeDuration(ms: number | undefined): string {
  return ms === undefined ? "–" : duration(ms);
}

/**
 * A scheduled report's digest: the fleet's posture, the period's numbers, the top offenders and a link to the full
 * report. A fixed, small number of blocks whatever the fleet's size (the report itself has the rest).
 */
export function renderReportDigest(event: ReportDigestEvent, options: RenderOptions = {}): SlackMessage {
  const { digest, report } = event;
  const p = digest.posture;
  const v = p.byVerdict;
  const divergent = v.drifted + v.pending + v["drifted+pending"];
  const posture = [
    `*${percent(p.inSyncShare)} in sync* · ${p.stacks} stacks`,
    `✅ ${v["in-sync"]} in sync · 🔴 ${divergent} drifted or pending · ⚠️ ${v.error} error · ${v["never-checked"]} never checked · ${p.stale} stale`,
    `${plural(p.openEpisodes, "open episode", "open episodes")}${p.oldestOpenEpisode ? ` (oldest: ${inline(p.oldestOpenEpisode.stack, MAX.name)}, ${duration(p.oldestOpenEpisode.ageMs)})` : ""} · ${plural(p.awaitingApproval, "remediation waits", "remediations wait")} for approval`,
  ].join("\n");
  const e = digest.episodes;
  const period = [
    `*This period* ${plural(e.opened, "episode", "episodes")} opened · ${e.resolved} resolved · ${e.stillOpen} still open`,
    `Time in drift (median) ${maybeDuration(e.medianTimeInDriftMs)} · time to detect (median) ${maybeDuration(e.medianTimeToDetectMs)}`,
    `${plural(digest.checks.runs, "check", "checks")} · ${plural(digest.checks.errors, "error", "errors")} · remediation: ${digest.remediation.applied} applied, ${digest.remediation.refused} refused of ${digest.remediation.decisions}`,
  ].join("\n");
  const offenders = digest.topOffenders.length
    ? `*Top offenders* (time in drift)\n${digest.topOffenders.map((o) => `• ${inline(o.stack, MAX.name)}: ${duration(o.timeInDriftMs)} in ${plural(o.episodes, "episode", "episodes")}`).join("\n")}`
    : "*Top offenders* none: no stack drifted this period 🎉";
  const from = when(digest.period.from);
  const to = when(digest.period.to);
  const blocks: KnownBlock[] = [header(`📊 Drift report: ${report.name}`), context([`${from} → ${to}`]), section(posture), section(period), section(offenders)];
  if (report.url && report.url.length <= 2000) blocks.push(section(`<${linkTarget(report.url)}|Open the full report>`));
  const summary = `Drift report ${inline(report.name, MAX.name)}: ${percent(p.inSyncShare)} of ${plural(p.stacks, "stack", "stacks")} in sync, ${plural(e.opened, "episode", "episodes")} opened, ${e.stillOpen} open`;
  return { text: fitMrkdwn(summary, LIMITS.fallbackText), blocks };
}

// --- after a press ------------------------------------------------------------------------------------------------

/**
 * A message of ours whose buttons are spent (an approval decided): the same blocks without Driftwatch's action
 * blocks, and what happened as the last section. The blocks are the message's as Slack gave them back.
 */
export function withOutcome(message: { text: string; blocks: readonly unknown[] }, outcome: string): SlackMessage {
  const kept = message.blocks.filter((b) => !(isRecord(b) && b.type === "actions" && typeof b.block_id === "string" && b.block_id.startsWith(ACTIONS_BLOCK_PREFIX)));
  const outcomeBlock = section(outcome);
  return { text: message.text || cut(outcome, LIMITS.fallbackText), blocks: [...(kept.slice(0, LIMITS.blocks - 1) as KnownBlock[]), outcomeBlock] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Text from a person (or a reason that quotes one) for a message: escaped, on one line, within `max`. */
export function mrkdwnText(raw: string, max = 500): string {
  return inline(raw, max);
}

/** A time in a message, in the reader's time zone. */
export const slackDate = when;

/** Text for a ``` block in a message: nothing in it can close the block early. */
export function codeBlock(raw: string, max = 2500): string {
  return `\`\`\`\n${codeText(raw, max) || " "}\n\`\`\``;
}

/** A short note for one person (an ephemeral answer to a press): mrkdwn already built by the caller. */
export function renderNote(text: string): SlackMessage {
  return { text: fitMrkdwn(text, LIMITS.fallbackText), blocks: [section(text)] };
}
