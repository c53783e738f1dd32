import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/temp-dir.ts";
import type { CheckResult } from "../checks/results.ts";
import { appendBuild, diffPins, flattenPins, loadBuilds, loadPins, savePins, type BuildRecord } from "./history.ts";
import { CatalogState } from "./state.ts";
import { loadTestRecord, recordTest, summarizeTest } from "./test-records.ts";

const D = (n: number) => `sha256:${String(n).padStart(64, "0")}`;
const record = (n: number): BuildRecord => ({ ref: "app:image", digest: D(n), builtAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(), platforms: [] });

describe("build history", () => {
  it("keeps the builds of a target in order, the last 50 only", async () => {
    const state = new CatalogState(await tempDir());
    for (let n = 1; n <= 53; n++) await appendBuild(state, record(n));
    const builds = await loadBuilds(state, "app:image");
    expect(builds).toHaveLength(50);
    expect(builds[0]!.digest).toBe(D(4));
    expect(builds.at(-1)!.digest).toBe(D(53));
    expect(await loadBuilds(state, "app:other")).toEqual([]);
  });

  it("loses no build when two are recorded at once", async () => {
    const state = new CatalogState(await tempDir());
    await Promise.all([1, 2, 3, 4].map((n) => appendBuild(state, record(n))));
    expect((await loadBuilds(state, "app:image")).map((b) => b.digest).sort()).toEqual([D(1), D(2), D(3), D(4)]);
  });

  it("reads a damaged history as none, and refuses refs that would leave the folder", async () => {
    const state = new CatalogState(await tempDir());
    await fs.mkdir(path.join(state.dir, "history", "app"), { recursive: true });
    await fs.writeFile(path.join(state.dir, "history", "app", "image.json"), "{not json");
    expect(await loadBuilds(state, "app:image")).toEqual([]);
    await expect(loadBuilds(state, "../x:y")).rejects.toThrow(/not a catalog ref/);
  });
});

describe("pins", () => {
  const lock = {
    lockVersion: 1 as const,
    image: "app",
    debian: {
      suite: "bookworm",
      snapshot: "20260101T000000Z",
      request: { set: "packages" as const, packages: ["curl"], foreignArchitectures: [] },
      packages: { amd64: [{ name: "curl", version: "7.88.1-10", architecture: "amd64", archive: "debian" as const, path: "pool/c", size: 1, sha256: "a".repeat(64) }] },
    },
    git: { src: { url: "https://example.invalid/x.git", ref: "v1", commit: "b".repeat(40) } },
    downloads: { tool: { "linux/amd64": { url: "https://example.invalid/t", sha256: "c".repeat(64) } } },
    parents: { base: { ref: "base:runtime", index: D(9), manifests: {} } },
  };

  it("flattens a lock to one sorted line per pin", () => {
    expect(flattenPins(lock)).toEqual({
      "debian amd64 curl": "7.88.1-10",
      "download tool linux/amd64": `sha256:${"c".repeat(64)}`,
      "git src": `${"b".repeat(40)} (v1)`,
      "parent base": `base:runtime@${D(9)}`,
    });
    expect(flattenPins(undefined)).toEqual({});
  });

  it("diffs two pin sets: added, removed, changed", () => {
    expect(diffPins({ a: "1", b: "1", c: "1" }, { a: "1", b: "2", d: "1" })).toEqual([
      { key: "b", before: "1", after: "2" },
      { key: "c", before: "1" },
      { key: "d", after: "1" },
    ]);
  });

  it("stores a pin set once, by content", async () => {
    const state = new CatalogState(await tempDir());
    const h1 = await savePins(state, { b: "2", a: "1" });
    expect(await savePins(state, { a: "1", b: "2" })).toBe(h1);
    expect(await loadPins(state, h1)).toEqual({ a: "1", b: "2" });
    expect(await loadPins(state, "nope")).toBeUndefined();
  });
});

describe("test records", () => {
  const result = (platform: string, ok: boolean, rule = "policy"): CheckResult => ({ rule, name: rule, subject: `app:image ${platform}`, ok, message: "" });

  it("sums a run up per platform and merges a later run of one platform", async () => {
    const state = new CatalogState(await tempDir());
    const first = summarizeTest([result("linux/amd64", true), result("linux/arm64", false, "no-setuid")], false, new Date("2026-01-02T00:00:00Z"));
    expect(first["linux/arm64"]).toEqual({ ok: false, checks: 1, failed: ["no-setuid"], testedAt: "2026-01-02T00:00:00.000Z", staticOnly: false });
    await recordTest(state, "app:image", D(1), first);
    await recordTest(state, "app:image", D(1), summarizeTest([result("linux/arm64", true)], true, new Date("2026-01-03T00:00:00Z")));
    const r = await loadTestRecord(state, D(1));
    expect(r?.platforms["linux/amd64"]?.ok).toBe(true);
    expect(r?.platforms["linux/arm64"]).toMatchObject({ ok: true, staticOnly: true, testedAt: "2026-01-03T00:00:00.000Z" });
    expect(await loadTestRecord(state, D(2))).toBeUndefined();
  });
});
