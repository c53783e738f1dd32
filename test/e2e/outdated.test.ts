/**
 * `kiln outdated` against the real Debian mirror: a fixture image locking
 * libexpat1 and tzdata (arch: all), both newer in bookworm-security than in
 * bookworm's last point release. A fresh lock from `kiln refresh` (no engine
 * needed) has nothing pending; the same lock pinned back to the point
 * release's versions, still published in bookworm, lists both as security
 * updates, and `--fail-on` turns that into the exit code. (bookworm-updates
 * holds nothing newer than the point release today, so updates that are not
 * security fixes are covered by the unit tests' fixture indices.) One
 * architecture: each index is the same code per architecture, and reading
 * one costs seconds; the unit tests cover several lock architectures.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPackagesFile, fetchVerifiedSuite, type IndexEntry, parsePackagesIndex, suiteSources } from "../../src/debian/indices.ts";
import { debStore } from "../../src/debian/resolve.ts";
import { compareDebianVersions } from "../../src/debian/version.ts";
import type { Lock, LockedDeb } from "../../src/lock/schema.ts";
import { settingsSchema } from "../../src/settings/schema.ts";
import { tempDir, writeDefinition } from "../support/lock-fixtures.ts";
import { kiln } from "./helpers.ts";

const FIXES = ["libexpat1", "tzdata"];
const ARCHS = ["amd64"];

describe("kiln outdated", () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let fresh: Lock;
  /** The point release's (bookworm) entry of a package for an architecture. */
  const pointRelease = new Map<string, IndexEntry>();
  const lockFile = () => path.join(root, "images/fixture/kiln.lock.json");
  const outdated = (...args: string[]) => kiln(["outdated", ...args], env);
  const locked = (lock: Lock, name: string, arch: string) => lock.debian!.packages[arch]!.find((d) => d.name === name)!;

  /** The fresh lock with `names` pinned back to the point release's versions. */
  async function pinBack(names: string[]): Promise<void> {
    const lock: Lock = structuredClone(fresh);
    for (const arch of ARCHS) {
      lock.debian!.packages[arch] = lock.debian!.packages[arch]!.map((d): LockedDeb => {
        const old = names.includes(d.name) ? pointRelease.get(`${d.name} ${arch}`) : undefined;
        return old ? { ...d, version: old.version, archive: old.archive, path: old.path, size: old.size, sha256: old.sha256 } : d;
      });
    }
    await fs.writeFile(lockFile(), JSON.stringify(lock, null, 2) + "\n");
  }

  beforeAll(async () => {
    root = await tempDir("kiln-outdated-");
    env = { KILN_CATALOG: root, KILN_STORE: path.join(root, "store"), KILN_CACHE_DIR: path.join(root, "cache") };
    await writeDefinition(root, "fixture", { platforms: ["linux/amd64"], inputs: { debian: { packages: FIXES } } });
    const refreshed = await kiln(["refresh", "fixture"], env);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    fresh = JSON.parse(await fs.readFile(lockFile(), "utf8"));
    // The point release's entries, read with kiln's verified index code into the same cache.
    const settings = settingsSchema.parse({});
    const bookworm = await fetchVerifiedSuite(suiteSources("bookworm", settings)[0]!, settings, debStore(env.KILN_CACHE_DIR!));
    for (const arch of ARCHS) {
      const { text } = await fetchPackagesFile(bookworm, arch, debStore(env.KILN_CACHE_DIR!), settings);
      for (const e of parsePackagesIndex(text, bookworm)) if (FIXES.includes(e.name)) pointRelease.set(`${e.name} ${arch}`, e);
      // Preconditions about the archive, not about kiln: if a new point release folds these in, pick other packages.
      for (const name of FIXES) {
        const now = locked(fresh, name, arch);
        const then = pointRelease.get(`${name} ${arch}`)!;
        expect(now.archive, `${name} is no longer newer in bookworm-security than in bookworm: choose another fixture package`).toBe("debian-security");
        expect(compareDebianVersions(then.version, now.version), `${name} ${then.version} of bookworm is not older than ${now.version}`).toBeLessThan(0);
      }
    }
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it("lists nothing for a freshly refreshed lock, and --fail-on any passes", async () => {
    const r = await outdated("fixture", "--fail-on", "any");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^fixture: up to date \(\d+ packages locked at \d{8}T\d{6}Z\)\nchecked against bookworm \(.+\), bookworm-updates \(.+\), bookworm-security \(.+\)\n$/);
  });

  it("lists packages pinned to the point release as security updates; --fail-on security and any fail", async () => {
    await pinBack(FIXES);
    const v = (name: string) => ({ old: pointRelease.get(`${name} amd64`)!.version, now: locked(fresh, name, "amd64").version });
    const [expat, tz] = [v("libexpat1"), v("tzdata")];
    const r = await outdated("fixture", "--fail-on", "security");
    expect([r.code, r.stderr]).toEqual([1, "kiln: security updates pending in fixture; run `kiln refresh fixture --only debian`, then rebuild\n"]);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^fixture: 2 updates, 2 security \(\d+ packages locked at \d{8}T\d{6}Z\)$/);
    expect(lines[1]!.split(/\s{2,}/)).toEqual(["", "libexpat1", `${expat.old} -> ${expat.now}`, "bookworm-security", "security", "amd64"]);
    expect(lines[2]!.split(/\s{2,}/)).toEqual(["", "tzdata", `${tz.old} -> ${tz.now}`, "bookworm-security", "security", "amd64"]);
    expect(lines[3]).toBe("  refresh: kiln refresh fixture --only debian");

    const json = await outdated("--all", "--json", "--fail-on", "any");
    expect([json.code, json.stderr]).toEqual([1, "kiln: updates pending in fixture; run `kiln refresh fixture --only debian`, then rebuild\n"]);
    const report = JSON.parse(json.stdout);
    expect([report.reportVersion, report.updates, report.security]).toEqual([1, 2, 2]);
    expect(report.suites.map((s: { suite: string }) => s.suite)).toEqual(["bookworm", "bookworm-updates", "bookworm-security"]);
    for (const arch of ARCHS) {
      expect(report.images[0].architectures[arch]).toEqual([
        { name: "libexpat1", architecture: arch, locked: expat.old, available: expat.now, suite: "bookworm-security", security: true },
        { name: "tzdata", architecture: "all", locked: tz.old, available: tz.now, suite: "bookworm-security", security: true },
      ]);
    }
  });
});
