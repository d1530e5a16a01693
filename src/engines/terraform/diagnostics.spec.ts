import { describe, expect, it } from "vitest";
import { cleanOutput, formatValidateJson, isLockConflict } from "./diagnostics.ts";

const VALIDATE = JSON.stringify({
  valid: false,
  diagnostics: [
    { severity: "error", summary: "Unclosed configuration block", detail: "No closing brace.", range: { filename: "main.tf", start: { line: 3, column: 30 } } },
    { severity: "warning", summary: "Deprecated", range: { filename: "old.tf", start: { line: 1, column: 1 } } },
    { severity: "error", summary: "Missing required provider" },
  ],
});

describe("terraform diagnostics", () => {
  it("names file, line and column of each error, relative to the repository when the module's folder is given", () => {
    expect(formatValidateJson(VALIDATE)).toBe("main.tf:3:30: Unclosed configuration block: No closing brace.\nMissing required provider");
    expect(formatValidateJson(VALIDATE, { locatedOnly: true, moduleDir: "stacks/net" })).toBe(
      "stacks/net/main.tf:3:30: Unclosed configuration block: No closing brace.",
    );
    expect(formatValidateJson(JSON.stringify({ valid: true, diagnostics: [] }))).toBeUndefined();
    expect(formatValidateJson("not json")).toBeUndefined();
  });

  it("recognises a held state lock", () => {
    expect(isLockConflict("Error: Error acquiring the state lock\n\nError message: resource temporarily unavailable")).toBe(true);
    expect(isLockConflict("Error: Invalid resource type")).toBe(false);
  });

  it("strips colour codes and padding", () => {
    expect(cleanOutput("\u001b[31mError\u001b[0m\n\n\n\nx\n")).toBe("Error\n\nx");
  });
});
