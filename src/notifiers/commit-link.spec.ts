import { describe, expect, it } from "vitest";
import { commitUrl, shortSha } from "./commit-link.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("commitUrl", () => {
  it.each([
    ["https://github.com/acme/infra.git", `https://github.com/acme/infra/commit/${SHA}`],
    ["https://github.com/acme/infra", `https://github.com/acme/infra/commit/${SHA}`],
    ["https://github.com/acme/infra.git/", `https://github.com/acme/infra/commit/${SHA}`],
    ["https://x-access-token:abc@github.com/acme/infra", `https://github.com/acme/infra/commit/${SHA}`],
    ["https://GitHub.com/Acme/Infra.git", `https://github.com/Acme/Infra/commit/${SHA}`],
    ["git@github.com:acme/infra.git", `https://github.com/acme/infra/commit/${SHA}`],
    ["github.com:acme/infra", `https://github.com/acme/infra/commit/${SHA}`],
    ["ssh://git@github.com/acme/infra.git", `https://github.com/acme/infra/commit/${SHA}`],
    ["ssh://git@gitlab.com/acme/platform/infra.git", `https://gitlab.com/acme/platform/infra/-/commit/${SHA}`],
    ["ssh://git@gitlab.example.com:2222/acme/infra.git", `https://gitlab.example.com/acme/infra/-/commit/${SHA}`],
    ["https://gitlab.example.com:8443/acme/infra.git", `https://gitlab.example.com:8443/acme/infra/-/commit/${SHA}`],
    ["git@gitlab.example.com:acme/infra.git", `https://gitlab.example.com/acme/infra/-/commit/${SHA}`],
    ["git@bitbucket.org:acme/infra.git", `https://bitbucket.org/acme/infra/commits/${SHA}`],
    ["https://user@bitbucket.org/acme/infra.git", `https://bitbucket.org/acme/infra/commits/${SHA}`],
    ["https://codeberg.org/acme/infra", `https://codeberg.org/acme/infra/commit/${SHA}`],
    ["git@codeberg.org:acme/infra.git", `https://codeberg.org/acme/infra/commit/${SHA}`],
  ])("links %s", (repo, url) => {
    expect(commitUrl(repo, SHA)).toBe(url);
  });

  it.each([
    ["a local path", "/srv/repos/infra"],
    ["a relative path", "../infra"],
    ["a file:// URL", "file:///srv/repos/infra"],
    ["an unknown host", "https://git.example.com/acme/infra.git"],
    ["a host only looking like a forge", "https://github.com.evil.example/acme/infra"],
    ["a forge without a repository", "https://github.com/"],
    ["a forge with only an owner", "git@github.com:acme"],
    ["a GitHub URL that is not a repository", "https://github.com/acme/infra/tree/main"],
    ["a path that would break a Slack link", "git@github.com:acme/in>fra|x.git"],
    ["plain http", "http://github.com/acme/infra"],
  ])("gives no link for %s", (_, repo) => {
    expect(commitUrl(repo, SHA)).toBeUndefined();
  });

  it("gives no link for something that is not a commit id", () => {
    expect(commitUrl("https://github.com/acme/infra", "")).toBeUndefined();
    expect(commitUrl("https://github.com/acme/infra", "[secret]")).toBeUndefined();
    expect(commitUrl("https://github.com/acme/infra", "../../evil")).toBeUndefined();
  });

  it("shortens a commit like the CLI", () => {
    expect(shortSha(SHA)).toBe("0123456789ab");
    expect(shortSha("abc")).toBe("abc");
  });
});
