// Who may approve: named users at once, user groups through one read of their members per minute, and a group
// that cannot be read refuses (saying why) unless the person is allowed otherwise.
import { describe, expect, it } from "vitest";
import { ApproverCheck } from "./slack-approvers.ts";

function directory(groups: Record<string, string[]>) {
  const calls: string[] = [];
  return {
    calls,
    async userGroupMembers(group: string) {
      calls.push(group);
      const members = groups[group];
      if (!members) throw new Error("usergroups.users.list failed with no_such_subteam");
      return members;
    },
  };
}

describe("ApproverCheck", () => {
  it("allows named users without asking Slack, and members of named groups, reading each group once a minute", async () => {
    let now = 0;
    const slack = directory({ SPLATFORM: ["UBOB001", "UCAROL1"] });
    const check = new ApproverCheck(slack, { now: () => now });
    expect(await check.allows(["UALICE1", "SPLATFORM"], "UALICE1")).toEqual({ allowed: true, problems: [] });
    expect(slack.calls).toEqual([]);
    const [bob, carol] = await Promise.all([check.allows(["SPLATFORM"], "UBOB001"), check.allows(["SPLATFORM"], "UCAROL1")]);
    expect([bob.allowed, carol.allowed]).toEqual([true, true]);
    expect(await check.allows(["SPLATFORM"], "UEVE001")).toEqual({ allowed: false, problems: [] });
    expect(slack.calls).toEqual(["SPLATFORM"]);
    now += 60_001;
    await check.allows(["SPLATFORM"], "UEVE001");
    expect(slack.calls).toEqual(["SPLATFORM", "SPLATFORM"]);
  });

  it("refuses when a group cannot be read, says which, and asks again at the next press", async () => {
    const slack = directory({ SOK0001: ["UBOB001"] });
    const check = new ApproverCheck(slack);
    expect(await check.allows(["SGONE01", "SOK0001"], "UBOB001")).toEqual({ allowed: true, problems: [] });
    const refused = await check.allows(["SGONE01"], "UBOB001");
    expect(refused.allowed).toBe(false);
    expect(refused.problems).toEqual(["the members of user group SGONE01 could not be read (usergroups.users.list failed with no_such_subteam)"]);
    await check.allows(["SGONE01"], "UBOB001");
    expect(slack.calls.filter((g) => g === "SGONE01")).toHaveLength(3);
    expect(await check.allows([], "UBOB001")).toEqual({ allowed: false, problems: [] });
  });
});
