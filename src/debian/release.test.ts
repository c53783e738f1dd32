import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { KilnError } from "../errors.ts";
import { parseRelease, snapshotFromDate, verifyInRelease } from "./release.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../../test/fixtures/debian");

describe("InRelease", () => {
  it("gpgv accepts the archive's signed file and returns the signed text only", async () => {
    const data = await fs.readFile(path.join(FIXTURES, "bookworm-security.InRelease"));
    const text = await verifyInRelease(data, "fixture");
    expect(text.startsWith("Origin: Debian")).toBe(true);
    expect(text).not.toContain("BEGIN PGP");
    const release = parseRelease(text);
    expect([release.suite, release.codename]).toContain("bookworm-security");
    const packages = release.sha256.get("main/binary-amd64/Packages.xz");
    expect(packages?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(packages?.size).toBeGreaterThan(0);
    expect(snapshotFromDate(release.date)).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it("refuses a tampered InRelease (one hash changed)", async () => {
    const text = await fs.readFile(path.join(FIXTURES, "bookworm-security.InRelease"), "utf8");
    const release = parseRelease(text.slice(text.indexOf("Origin:"), text.indexOf("-----BEGIN PGP SIGNATURE")));
    const hex = release.sha256.get("main/binary-amd64/Packages.xz")!.sha256;
    const forged = text.replace(hex, hex.slice(0, -1) + (hex.endsWith("0") ? "1" : "0"));
    expect(forged).not.toBe(text);
    const err = await verifyInRelease(Buffer.from(forged), "forged InRelease").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).message).toMatch(/^forged InRelease: signature check failed/);
  });

  it("refuses a file signed by a key outside the keyring", async () => {
    const data = await fs.readFile(path.join(FIXTURES, "bookworm-security.InRelease"));
    await expect(verifyInRelease(data, "fixture", "/usr/share/keyrings/debian-archive-removed-keys.gpg")).rejects.toThrow(/signature check failed/);
  });

  it("takes each listed file's sha256 and size from the SHA256 field", () => {
    const r = parseRelease("Suite: s\nCodename: c\nDate: Sat, 15 Nov 2025 09:12:34 UTC\nMD5Sum:\n 00 1 x\nSHA256:\n " + "a".repeat(64) + "  1234 main/binary-arm64/Packages.xz\n " + "b".repeat(64) + " 5 main/Contents-all\n");
    expect([...r.sha256]).toEqual([
      ["main/binary-arm64/Packages.xz", { sha256: "a".repeat(64), size: 1234 }],
      ["main/Contents-all", { sha256: "b".repeat(64), size: 5 }],
    ]);
    expect(snapshotFromDate(r.date)).toBe("20251115T091234Z");
  });
});
