// The stack page's flapping section: shown only for an open episode that flagged resources, escaped, with the
// ignore rule that would end the churn.
import { describe, expect, it } from "vitest";
import { stackPage } from "./dashboard.ts";

const row = { name: "web", engine: "pulumi", phase: "idle" };
const flapping = [{ address: "aws_instance.<b>web</b>", type: "aws_instance", times: 4, since: "2026-11-23T08:00:00.000Z", paths: ["tags.LastScanned"] }];

describe("stack page", () => {
  it("shows the open episode's flapping resources and the suggested ignore rule, escaped", () => {
    const html = stackPage({ ...row, openEpisode: { openedAt: "2026-11-23T09:00:00.000Z", seenCount: 2, flapping } }, [], undefined);
    expect(html).toContain("<h2>Flapping</h2>");
    expect(html).toContain("<code>aws_instance.&lt;b&gt;web&lt;/b&gt;</code> started drifting 4 times since");
    expect(html).toContain("<pre>ignore:\n  - { type: &quot;aws_instance&quot;, paths: [&quot;tags.LastScanned&quot;] }</pre>");
    expect(html).not.toContain("<b>web</b>");
    expect(stackPage({ ...row, openEpisode: { openedAt: "2026-11-23T09:00:00.000Z", seenCount: 2 } }, [], undefined)).not.toContain("Flapping");
  });
});
