import { describe, expect, it } from "vitest";
import { renderDoctor, type DoctorDocument } from "./doctor.ts";

describe("driftwatch doctor's engine table", () => {
  it("names the setting each engine came from", () => {
    const doc: DoctorDocument = {
      launcher: { bin: "/opt/sandbox", version: "1.0.0" },
      engines: [
        { name: "node", bin: "/usr/bin/node", version: "24.21.0", origin: "path" },
        { name: "driftwatch-sandbox", bin: "/opt/sandbox", version: "1.0.0", origin: "env" },
        { name: "pulumi", bin: "/opt/pulumi", version: "3.259.0", origin: "env" },
        { name: "tofu", bin: "/opt/tofu", version: "1.12.6", origin: "config" },
        { name: "kustomize", bin: "/cache/kustomize", version: "5.8.2", origin: "built" },
      ],
      support: null,
      level: "strict",
      stacks: [],
      protections: {},
    };
    const from = Object.fromEntries(
      renderDoctor(doc, [])
        .split("\n")
        .slice(2, 7)
        .map((line) => line.split(/\s{2,}/))
        .map(([name, , origin]) => [name, origin]),
    );
    expect(from).toEqual({
      node: "PATH",
      "driftwatch-sandbox": "DRIFTWATCH_SANDBOX",
      pulumi: "DRIFTWATCH_PULUMI",
      tofu: "engines.tofu.path",
      kustomize: "built here from source",
    });
  });
});
