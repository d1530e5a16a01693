import { describe, expect, it } from "vitest";
import { redactUrls, redactValues, sensitiveValues } from "./redact.ts";

describe("redaction", () => {
  it("keeps credentials and lets ordinary settings through", () => {
    expect(sensitiveValues({ PULUMI_CONFIG_PASSPHRASE: "p", AWS_SECRET_ACCESS_KEY: "k", GITHUB_TOKEN: "t", DEMO_FILES_DIR: "/d", AWS_REGION: "eu" })).toEqual(["p", "k", "t"]);
  });

  it("removes credentials from URLs and known values from text", () => {
    expect(redactUrls("fatal: unable to access 'https://bob:hunter22@git.example/repo.git/'")).toBe("fatal: unable to access 'https://***@git.example/repo.git/'");
    expect(redactValues("passphrase was hunter22!", ["hunter22"])).toBe("passphrase was [secret]!");
  });
});
