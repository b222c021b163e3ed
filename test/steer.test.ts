import { describe, expect, it } from "vitest";
import { iso6391Of } from "../ts/steer/steer.js";

describe("iso6391Of", () => {
  it("reads the ISO 639-1 code of plan codes and UDHR ids", () => {
    expect(iso6391Of("nl")).toBe("nl");
    expect(iso6391Of("nld")).toBe("nl");
    expect(iso6391Of("deu_1996")).toBe("de");
    expect(iso6391Of("pt-BR")).toBe("pt");
    expect(iso6391Of("cmn_hans")).toBeNull(); // Mandarin has no 639-1 code of its own
    expect(iso6391Of("qqq")).toBeNull();
  });
});
