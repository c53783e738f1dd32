import { describe, expect, it } from "vitest";
import { parseDeb822 } from "./deb822.ts";

describe("parseDeb822", () => {
  it("reads paragraphs, continuation lines and skips comments", () => {
    const ps = parseDeb822("Package: a\nDescription: short\n long line\n .\n\n\n# note\nPackage: b\nVersion: 1:2.0-1\n");
    expect(ps).toEqual([{ Package: "a", Description: "short\nlong line\n." }, { Package: "b", Version: "1:2.0-1" }]);
  });

  it("keeps colons in values and trims them", () => {
    expect(parseDeb822("Date:   Sat, 29 Nov 2026 02:53:00 UTC  \n")).toEqual([{ Date: "Sat, 29 Nov 2026 02:53:00 UTC" }]);
  });

  it("rejects a line that is no field", () => {
    expect(() => parseDeb822("Package: a\nnot a field\n")).toThrow(/not a field/);
    expect(() => parseDeb822(" orphan continuation\n")).toThrow(/continuation/);
  });
});
