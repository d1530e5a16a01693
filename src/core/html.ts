// HTML text shared by the dashboard and the HTML report: escaping, and the verdict badge both show.
import type { Verdict } from "./types.ts";

/** Text for HTML content and attribute values (both quote styles). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** A status as a badge; its class picks the colours (the dashboard's and the report's stylesheets define them). */
export function badge(status: Verdict | "never-checked" | "unknown" | "running" | "stale"): string {
  return `<span class="badge ${escapeHtml(status)}">${escapeHtml(status)}</span>`;
}
