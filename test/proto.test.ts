import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("generated protocol code", () => {
  it("matches proto/ (run `npm run gen:proto` after editing a .proto)", () => {
    const out = execFileSync("node", [join(import.meta.dirname, "../scripts/gen-proto.mjs"), "--check"], { encoding: "utf8" });
    expect(out).toContain("generated protocol code is up to date");
  });
});
