import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { deb, fixtureIndexSource } from "../../test/support/outdated-fixtures.ts";
import { settingsSchema } from "../settings/schema.ts";
import { debStore } from "./resolve.ts";
import { CurrentIndices, indexArchitecture, pendingUpdates, publishedIn, publishedVersions } from "./updates.ts";

const settings = settingsSchema.parse({});

describe("pending updates against the current indices", () => {
  const lock = {
    amd64: [
      deb("hello", "2.10-3", "amd64"),
      deb("libbluetooth3", "5.66-1+deb12u2", "amd64"),
      deb("libc6", "2.36-9+deb12u10", "arm64"),
      deb("libexpat1", "2.5.0-1+deb12u2", "amd64"),
      deb("libssl3", "3.0.15-1~deb12u1", "amd64"),
      deb("tzdata", "2025b-0+deb12u1", "all"),
      deb("zlib1g", "1:1.2.13.dfsg-1+deb12u1", "amd64"),
    ],
    arm64: [deb("libc6", "2.36-9+deb12u10", "arm64"), deb("tzdata", "2026b-0+deb12u1", "all")],
  };

  it("lists newer versions per lock architecture, security marked, up-to-date and older-in-security ones left out", async () => {
    const updates = await new CurrentIndices(fixtureIndexSource(), settings).updatesOf("bookworm", lock);
    expect(updates).toEqual({
      amd64: [
        // a foreign package is looked up in its own architecture's index
        { name: "libc6", architecture: "arm64", locked: "2.36-9+deb12u10", available: "2.36-9+deb12u13", suite: "bookworm-security", security: true },
        // the newest of two security versions
        { name: "libexpat1", architecture: "amd64", locked: "2.5.0-1+deb12u2", available: "2.5.0-1+deb12u5", suite: "bookworm-security", security: true },
        // the newest comes from -updates, but a security fix newer than the lock is among what is skipped
        { name: "libssl3", architecture: "amd64", locked: "3.0.15-1~deb12u1", available: "3.0.17-1~deb12u2", suite: "bookworm-updates", security: true },
        { name: "tzdata", architecture: "all", locked: "2025b-0+deb12u1", available: "2026b-0+deb12u1", suite: "bookworm-updates", security: false },
      ],
      arm64: [{ name: "libc6", architecture: "arm64", locked: "2.36-9+deb12u10", available: "2.36-9+deb12u13", suite: "bookworm-security", security: true }],
    });
  });

  it("verifies each suite and reads each suite/architecture once, however many locks ask", async () => {
    const source = fixtureIndexSource();
    const indices = new CurrentIndices(source, settings);
    await Promise.all([indices.updatesOf("bookworm", lock), indices.updatesOf("bookworm", lock), indices.updatesOf("bookworm", { arm64: lock.arm64 })]);
    expect(source.verified.sort()).toEqual(["bookworm", "bookworm-security", "bookworm-updates"]);
    expect(source.read.sort()).toEqual(["bookworm-security/amd64", "bookworm-security/arm64", "bookworm-updates/amd64", "bookworm-updates/arm64", "bookworm/amd64", "bookworm/arm64"]);
    expect(await indices.checked("bookworm")).toEqual([
      { suite: "bookworm", archive: "debian", date: "Fri, 04 Dec 2026 03:54:28 UTC" },
      { suite: "bookworm-updates", archive: "debian", date: "Fri, 04 Dec 2026 03:54:28 UTC" },
      { suite: "bookworm-security", archive: "debian-security", date: "Fri, 04 Dec 2026 03:54:28 UTC" },
    ]);
  });

  it("the same version in two suites is named after the security suite", () => {
    const e = (version: string) => ({ name: "zlib1g", version, architecture: "amd64" });
    const published = publishedVersions([
      { suite: { suite: "bookworm", archive: "debian" }, entries: [e("1:1.2.13.dfsg-1+deb12u1")] },
      { suite: { suite: "bookworm-security", archive: "debian-security" }, entries: [e("1:1.2.13.dfsg-1+deb12u1")] },
    ]);
    expect(pendingUpdates([deb("zlib1g", "1:1.2.13.dfsg-1", "amd64")], "amd64", () => published)).toEqual([
      { name: "zlib1g", architecture: "amd64", locked: "1:1.2.13.dfsg-1", available: "1:1.2.13.dfsg-1+deb12u1", suite: "bookworm-security", security: true },
    ]);
    // a point release that folded the fix in: not listed at all once locked
    expect(pendingUpdates([deb("zlib1g", "1:1.2.13.dfsg-1+deb12u1", "amd64")], "amd64", () => published)).toEqual([]);
  });

  it("arch-independent packages are looked up in the lock architecture's index", () => {
    expect(indexArchitecture({ architecture: "all" }, "arm64")).toBe("arm64");
    expect(indexArchitecture({ architecture: "amd64" }, "arm64")).toBe("amd64");
  });

  it("a failing suite fails the run once, with its own message", async () => {
    const source = fixtureIndexSource();
    const failing = { verify: async () => Promise.reject(new Error("bookworm-security InRelease: signature check failed")) };
    const indices = new CurrentIndices({ verify: (s) => (s.suite === "bookworm-security" ? failing.verify() : source.verify(s)) }, settings);
    await expect(indices.updatesOf("bookworm", lock)).rejects.toThrow("bookworm-security InRelease: signature check failed");
  });
});

describe("the kept version table", () => {
  const hex = "ab".repeat(32);
  const suite = { archive: "debian" as const, suite: "bookworm", mirrors: ["http://127.0.0.1:9/debian"], mirror: "http://127.0.0.1:9/debian", inRelease: Buffer.from(""), release: { suite: "bookworm", codename: "bookworm", date: "", sha256: new Map([["main/binary-amd64/Packages.xz", { sha256: hex, size: 1 }]]) }, keyring: { path: "/nonexistent", name: "none" } };
  const offline = settingsSchema.parse({ offline: true });

  it("is read instead of the index when the signed hash names it; a damaged one is not trusted", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-versions-"));
    try {
      await fs.mkdir(path.join(dir, "indices"));
      const table = path.join(dir, "indices", `${hex}.versions`);
      await fs.writeFile(table, "libexpat1 amd64 2.5.0-1+deb12u2\ntzdata all 2026b-0+deb12u1\n");
      expect(await publishedIn(suite, "amd64", debStore(dir), offline, dir)).toEqual([
        { name: "libexpat1", architecture: "amd64", version: "2.5.0-1+deb12u2" },
        { name: "tzdata", architecture: "all", version: "2026b-0+deb12u1" },
      ]);
      await fs.writeFile(table, "libexpat1 amd64 2.5.0-1+deb12u2\ntzdata all"); // cut short
      await expect(publishedIn(suite, "amd64", debStore(dir), offline, dir)).rejects.toThrow(/offline: bookworm main\/binary-amd64\/Packages.xz is not in the cache/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
