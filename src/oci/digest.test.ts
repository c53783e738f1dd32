import { describe, expect, it } from "vitest";
import { KilnError } from "../errors.ts";
import { digestHex, isDigest, requireDigest } from "./digest.ts";

const good = `sha256:${"ab".repeat(32)}`;

describe("digest strings", () => {
  it("accepts sha256: and 64 lowercase hex digits", () => {
    expect(isDigest(good)).toBe(true);
    expect(requireDigest(good, "x")).toBe(good);
    expect(digestHex(good, "x")).toBe("ab".repeat(32));
  });

  it.each([
    ["a path", "sha256:../../etc/passwd"],
    ["upper case", `sha256:${"AB".repeat(32)}`],
    ["too short", `sha256:${"a".repeat(63)}`],
    ["too long", `sha256:${"a".repeat(65)}`],
    ["another algorithm", `sha512:${"a".repeat(64)}`],
    ["no algorithm", "a".repeat(64)],
    ["a newline after it", `${good}\n`],
    ["empty", ""],
  ])("refuses %s with one line", (_what, value) => {
    expect(isDigest(value)).toBe(false);
    const err = (() => {
      try {
        requireDigest(value, "image");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).toLine()).toBe(`image: ${JSON.stringify(value)} is not a digest; a digest is sha256: followed by 64 lowercase hex digits`);
    expect((err as KilnError).toLine()).not.toContain("\n");
  });

  it("refuses what is not a string, and cuts a long value short", () => {
    expect(() => requireDigest(undefined, "index")).toThrow("index: undefined is not a digest");
    expect(() => requireDigest("x".repeat(200), "index")).toThrow(`index: "${"x".repeat(100)}…" is not a digest`);
  });
});
