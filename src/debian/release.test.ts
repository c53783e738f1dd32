import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArchiveKey, makeArchiveKey, releaseText } from "../../test/support/debian-mirror.ts";
import { KilnError } from "../errors.ts";
import { parseRelease, snapshotFromDate, verifyInRelease } from "./release.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../../test/fixtures/debian");

let good: ArchiveKey;
let expired: ArchiveKey;
let stranger: ArchiveKey;
const text = releaseText("bookworm", new Date("2026-12-01T00:00:00Z"), { "main/binary-amd64/Packages.xz": Buffer.from("index") });
const keyringOf = (k: ArchiveKey) => ({ path: k.keyring, name: "the test keyring" });

beforeAll(async () => {
  [good, expired, stranger] = await Promise.all([makeArchiveKey("Kiln Test Archive <a@example.org>"), makeArchiveKey("Kiln Expired <e@example.org>", { expiredSince: "20200101T000000" }), makeArchiveKey("Someone Else <s@example.org>")]);
});
afterAll(() => Promise.all([good, expired, stranger].map((k) => k?.cleanup())));

const refusal = async (p: Promise<unknown>) => {
  const e = await p.catch((err: unknown) => err);
  expect(e).toBeInstanceOf(KilnError);
  return (e as KilnError).toLine();
};

describe("InRelease", () => {
  it("a good signature by a key of the pinned keyring: the signed text only", async () => {
    const signed = await verifyInRelease(good.clearsign(text), "fixture", keyringOf(good));
    expect(signed).toBe(text);
    expect(signed).not.toContain("BEGIN PGP");
  });

  it("refuses a signature by an expired key, naming the key (gpgv itself exits 0 for it)", async () => {
    expect(await refusal(verifyInRelease(expired.clearsign(text), "fixture", keyringOf(expired)))).toBe(
      `fixture: signature refused: signed by key ${expired.longId} (Kiln Expired <e@example.org>), which has expired; kiln trusts only good signatures by keys of the test keyring; check the mirror setting`,
    );
  });

  it("refuses a tampered InRelease (one byte of the signed text changed)", async () => {
    const forged = Buffer.from(good.clearsign(text).toString().replace("bookworm", "bookwork"));
    expect(await refusal(verifyInRelease(forged, "forged", keyringOf(good)))).toBe(
      `forged: signature refused: bad signature by key ${good.longId} (Kiln Test Archive <a@example.org>): the file is not what was signed; kiln trusts only good signatures by keys of the test keyring; check the mirror setting`,
    );
  });

  it("refuses a file signed by a key outside the keyring", async () => {
    expect(await refusal(verifyInRelease(stranger.clearsign(text), "fixture", keyringOf(good)))).toMatch(new RegExp(`^fixture: signature refused: signed by key (${stranger.longId}|${stranger.fingerprint}), which is not in the keyring;`));
  });

  it("refuses an unsigned file", async () => {
    expect(await refusal(verifyInRelease(Buffer.from(text), "plain", keyringOf(good)))).toMatch(/^plain: signature refused: no valid signature;/);
  });

  it("reads the archive's own InRelease: suite, dates, hashes and sizes", async () => {
    const signed = await fs.readFile(path.join(FIXTURES, "bookworm-security.InRelease"), "utf8");
    const release = parseRelease(signed.slice(signed.indexOf("Origin:"), signed.indexOf("-----BEGIN PGP SIGNATURE")));
    expect([release.suite, release.codename]).toContain("bookworm-security");
    expect(release.sha256.get("main/binary-amd64/Packages.xz")?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(snapshotFromDate(release.date)).toMatch(/^\d{8}T\d{6}Z$/);
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
