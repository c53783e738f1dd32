import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KilnError } from "../errors.ts";
import type { DebianLock } from "../lock/schema.ts";
import { settingsSchema } from "../settings/schema.ts";
import { hashFile } from "../util/cas.ts";
import { debFileName, fetchLockedDebs } from "./debs.ts";
import { parseDeb822 } from "./deb822.ts";
import { makeFlatRepo } from "./flatrepo.ts";
import { debStore } from "./resolve.ts";

const run = promisify(execFile);
let dir: string;
let lock: DebianLock;
let mirror: string;

/** A real (tiny) .deb in a pool under a file:// "mirror". */
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-debs-test-"));
  const pkg = path.join(dir, "pkg");
  await fs.mkdir(path.join(pkg, "DEBIAN"), { recursive: true });
  await fs.mkdir(path.join(pkg, "usr/share/kiln-test"), { recursive: true });
  await fs.writeFile(path.join(pkg, "usr/share/kiln-test/hello"), "hello\n");
  await fs.writeFile(path.join(pkg, "DEBIAN/control"), "Package: kiln-test\nVersion: 1:1.0-1\nArchitecture: all\nMaintainer: kiln <kiln@example.org>\nPriority: optional\nDescription: test package\n");
  const rel = "pool/main/k/kiln-test/kiln-test_1.0-1_all.deb";
  await fs.mkdir(path.join(dir, "mirror", path.dirname(rel)), { recursive: true });
  await run("dpkg-deb", ["--root-owner-group", "--build", pkg, path.join(dir, "mirror", rel)], { env: { ...process.env, SOURCE_DATE_EPOCH: "1735689600" } });
  const file = path.join(dir, "mirror", rel);
  const { size } = await fs.stat(file);
  mirror = `file://${path.join(dir, "mirror")}`;
  lock = {
    suite: "bookworm",
    snapshot: "20250101T000000Z",
    request: { set: "packages", packages: ["kiln-test"], foreignArchitectures: [] },
    packages: { amd64: [{ name: "kiln-test", version: "1:1.0-1", architecture: "all", archive: "debian", path: rel, size, sha256: await hashFile(file) }] },
  };
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const settings = (over: object = {}) => settingsSchema.parse({ apt: { mirrors: [mirror] }, ...over });

describe("fetchLockedDebs", () => {
  it("fetches into the cache, then serves the verified entry offline", async () => {
    const cache = path.join(dir, "cache1");
    const lines: string[] = [];
    const first = await fetchLockedDebs(lock, "linux/amd64", settings(), cache, { log: (l) => lines.push(l) });
    expect([...first.keys()]).toEqual(["kiln-test"]);
    expect(await hashFile(first.get("kiln-test")!)).toBe(lock.packages.amd64![0]!.sha256);
    expect(lines).toEqual(["debian: fetched 1 of 1 locked packages for amd64"]);
    const again = await fetchLockedDebs(lock, "amd64", settings({ offline: true, apt: { mirrors: ["http://127.0.0.1:9/none"] } }), cache, { log: () => {} });
    expect(again.get("kiln-test")).toBe(first.get("kiln-test"));
  });

  it("rejects a tampered cached .deb naming the package and both hashes, and fetches it again", async () => {
    const cache = path.join(dir, "cache2");
    const good = lock.packages.amd64![0]!.sha256;
    await fetchLockedDebs(lock, "amd64", settings(), cache, { log: () => {} });
    const entry = debStore(cache).pathOf("sha256", good);
    await fs.writeFile(entry, "not the package\n");
    const bad = await hashFile(entry);

    const err = await fetchLockedDebs(lock, "amd64", settings({ offline: true }), cache, { log: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).message).toBe(`cached kiln-test 1:1.0-1 (all) does not match the lock: expected sha256 ${good}, got ${bad}; it was removed from the cache`);

    await fs.writeFile(entry, "not the package\n");
    const lines: string[] = [];
    const debs = await fetchLockedDebs(lock, "amd64", settings(), cache, { log: (l) => lines.push(l) });
    expect(lines[0]).toBe(`debian: cached kiln-test 1:1.0-1 (all) does not match the lock: expected sha256 ${good}, got ${bad}; removed it and fetching it again`);
    expect(await hashFile(debs.get("kiln-test")!)).toBe(good);
  });

  it("offline with an empty cache names the missing package", async () => {
    await expect(fetchLockedDebs(lock, "amd64", settings({ offline: true }), path.join(dir, "cache3"))).rejects.toThrow("offline: kiln-test 1:1.0-1 (all) is not in the cache");
  });

  it("a mirror serving other bytes is refused; the next mirror is used", async () => {
    const evil = path.join(dir, "evil");
    await fs.mkdir(path.join(evil, path.dirname(lock.packages.amd64![0]!.path)), { recursive: true });
    await fs.writeFile(path.join(evil, lock.packages.amd64![0]!.path), "evil\n");
    const debs = await fetchLockedDebs(lock, "amd64", settings({ apt: { mirrors: [`file://${evil}`, mirror] } }), path.join(dir, "cache4"), { log: () => {} });
    expect(await hashFile(debs.get("kiln-test")!)).toBe(lock.packages.amd64![0]!.sha256);
    await expect(fetchLockedDebs(lock, "amd64", settings({ apt: { mirrors: [`file://${evil}`] } }), path.join(dir, "cache5"), { log: () => {} })).rejects.toThrow(/sha256 [0-9a-f]{64}, expected/);
  });
});

describe("makeFlatRepo", () => {
  it("writes the .debs, a Packages index and a Release naming the suite", async () => {
    const debs = await fetchLockedDebs(lock, "amd64", settings(), path.join(dir, "cache6"), { log: () => {} });
    const repo = await makeFlatRepo(debs, "amd64", path.join(dir, "repo"), { suite: "bookworm" });
    const [p] = parseDeb822(await fs.readFile(path.join(repo, "Packages"), "utf8"));
    expect(p).toMatchObject({ Package: "kiln-test", Version: "1:1.0-1", Filename: "./kiln-test.deb", SHA256: lock.packages.amd64![0]!.sha256 });
    const [r] = parseDeb822(await fs.readFile(path.join(repo, "Release"), "utf8"));
    expect(r).toMatchObject({ Suite: "bookworm", Codename: "bookworm" });
    expect(r!.SHA256).toBe(`\n${await hashFile(path.join(repo, "Packages"))} ${(await fs.stat(path.join(repo, "Packages"))).size} Packages`);
    expect(debFileName(lock.packages.amd64![0]!)).toBe("kiln-test_1.0-1_all.deb");
  });
});
