/**
 * images/debian end to end, against the real mirror and the real engine:
 * lock resolution from verified indices, a clean build giving the rootfs
 * tarballs and index digest of the family's own build (another store and cache), an offline rebuild with the mirror
 * unreachable, the image's contents against the lock (arm64 under qemu),
 * snapshot sources, and refusal of a tampered cached .deb.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchLockedDebs } from "../../src/debian/debs.ts";
import { resolveDebian, debStore } from "../../src/debian/resolve.ts";
import { lockSchema, type DebianLock } from "../../src/lock/schema.ts";
import { OciStore } from "../../src/oci/store.ts";
import { settingsSchema } from "../../src/settings/schema.ts";
import { hashFile } from "../../src/util/cas.ts";
import { build as familyBuild, familyEnv } from "./base-family.ts";
import { kiln, REPO, runCommand } from "./helpers.ts";

const PLATFORMS = { "linux/amd64": "amd64", "linux/arm64": "arm64" } as const;
const DEAD_MIRRORS = { apt: { mirrors: ["http://127.0.0.1:9/debian"], securityMirrors: ["http://127.0.0.1:9/debian-security"] } };
const tag = `e2e-${randomBytes(4).toString("hex")}`;
const repoName = "kiln-e2e/debian";

let dir: string;
let lock: DebianLock;
const loaded: string[] = [];
const digests: Record<string, string> = {};

async function config(name: string, content: object): Promise<string> {
  const file = path.join(dir, `${name}.json`);
  await fs.writeFile(file, JSON.stringify(content));
  return file;
}

function env(store: string, cache: string, configFile: string): NodeJS.ProcessEnv {
  // The family's copy of the catalog (fixed git identity and dates): its labels, so its digests, are the family's.
  return { KILN_STORE: path.join(dir, store), KILN_CACHE_DIR: path.join(dir, cache), KILN_CONFIG: configFile, KILN_CATALOG: familyEnv().KILN_CATALOG };
}

async function build(e: NodeJS.ProcessEnv, extra: string[] = []) {
  const r = await kiln(["build", "debian", "--no-cache", "--progress", "quiet", "--json", ...extra], e);
  if (r.code !== 0) throw new Error(`kiln build debian failed (${r.code}): ${r.stderr}`);
  return { result: JSON.parse(r.stdout) as { digest: string; manifests: Record<string, string>; loaded: string[] }, stderr: r.stderr };
}

/** The rootfs tarballs a cache holds: arch-independent list of their sha256. */
async function cachedRootfs(cache: string): Promise<string[]> {
  const rootfs = path.join(path.resolve(dir, cache), "rootfs");
  const keys = await fs.readdir(rootfs);
  return (await Promise.all(keys.map(async (k) => (await fs.readFile(path.join(rootfs, k), "utf8")).trim()))).sort();
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-debian-e2e-"));
  lock = lockSchema.parse(JSON.parse(await fs.readFile(path.join(REPO, "images/debian/kiln.lock.json"), "utf8"))).debian!;
});

afterAll(async () => {
  for (const ref of loaded) await runCommand("docker", ["image", "rm", ref]);
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe.sequential("images/debian", () => {
  it("resolves the minbase set from gpgv-verified indices, the same names as the committed lock", async () => {
    const settings = settingsSchema.parse({});
    const fresh = await resolveDebian({ suite: "bookworm", set: "minbase", packages: [], foreignArchitectures: [] }, ["linux/amd64"], settings, path.join(dir, "resolve-cache"), { log: () => {} });
    expect(fresh.snapshot).toMatch(/^\d{8}T\d{6}Z$/);
    expect(Object.keys(fresh.packages)).toEqual(["amd64"]);
    const names = (l: DebianLock) => l.packages.amd64!.map((p) => p.name);
    expect(names(fresh)).toEqual(names(lock));
    expect(names(fresh)).toContain("usr-is-merged");
    expect(names(fresh)).not.toContain("usrmerge");
    for (const p of fresh.packages.amd64!) {
      expect(p.path.startsWith("pool/main/") || p.path.startsWith("pool/updates/main/"), p.path).toBe(true);
      expect(p.path.includes(`/${p.name}_`) && p.path.endsWith(`_${p.architecture}.deb`), p.path).toBe(true);
    }
  });

  // A clean build makes both rootfs tarballs (arm64 under qemu) and exports the image: minutes on a busy machine.
  const BUILD_TIMEOUT = 1_800_000;

  it("a clean build (fresh store and cache, no build cache) makes both platforms", async () => {
    const a = await build(env("storeA", "cacheA", await config("default", {})));
    expect(a.result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Object.keys(a.result.manifests).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    expect(await cachedRootfs("cacheA")).toHaveLength(2);
    digests.clean = a.result.digest;
  }, BUILD_TIMEOUT);

  // The second build of the pair is the family's (test/e2e/base-family.ts: its own store and
  // download cache, so its own mmdebstrap runs), which every image test needs anyway; in a
  // fresh CI it is clean too. When an earlier file built it, it is reused, not made a third time.
  it("the family's build (another store and cache) gives identical rootfs tarballs and the identical index digest", async () => {
    const family = familyEnv();
    const b = await familyBuild(family, "debian");
    expect(b.digest).toBe(digests.clean);
    const theirs = await cachedRootfs(family.KILN_CACHE_DIR!);
    for (const sum of await cachedRootfs("cacheA")) expect(theirs).toContain(sum);
  }, BUILD_TIMEOUT);

  it("rebuilds with the mirror unreachable from the warm cache: same digest", async () => {
    const cfg = await config("dead-mirror", DEAD_MIRRORS);
    const c = await build(env("storeC", "cacheA", cfg), ["--load", "--image", repoName, "--tag", tag]);
    loaded.push(...c.result.loaded);
    expect(c.result.digest).toBe(digests.clean);
    expect(c.result.loaded.length).toBeGreaterThan(0);
  }, BUILD_TIMEOUT);

  it("inside the image: dpkg-query matches the lock per architecture; apt uses the snapshot sources", async () => {
    const ref = `${repoName}:${tag}`;
    for (const [platform, arch] of Object.entries(PLATFORMS)) {
      const q = await runCommand("docker", ["run", "--rm", "--platform", platform, "--network", "none", ref, "dpkg-query", "-W", "-f", "${Package} ${Version} ${Architecture}\\n"]);
      expect(q.code, q.stderr).toBe(0);
      const inside = q.stdout.trim().split("\n").sort();
      const locked = lock.packages[arch]!.map((p) => `${p.name} ${p.version} ${p.architecture}`).sort();
      expect(inside).toEqual(locked);
    }
    const sources = await runCommand("docker", ["run", "--rm", "--platform", "linux/amd64", "--network", "none", ref, "cat", "/etc/apt/sources.list.d/debian.sources"]);
    expect(sources.stdout).toContain(`URIs: http://snapshot.debian.org/archive/debian/${lock.snapshot}\nSuites: bookworm bookworm-updates\n`);
    expect(sources.stdout).toContain(`URIs: http://snapshot.debian.org/archive/debian-security/${lock.snapshot}\nSuites: bookworm-security\n`);
    const update = await runCommand("docker", ["run", "--rm", "--platform", "linux/arm64", "--network", "none", ref, "apt-get", "update"]);
    expect(`${update.stdout}${update.stderr}`).toContain("snapshot.debian.org");
    expect(`${update.stdout}${update.stderr}`).not.toContain("deb.debian.org");
    const leftovers = await runCommand("docker", [
      "run", "--rm", "--network", "none", ref, "sh", "-c",
      "find /var/lib/apt/lists /var/log /var/cache/apt /var/cache/ldconfig -type f ! -name lock ! -name btmp ! -name wtmp ! -name lastlog ! -name faillog; cat /etc/machine-id 2>/dev/null; find /usr/share/man /usr/share/locale /usr/share/info -mindepth 1; find /usr/share/doc -type f ! -name copyright; echo end",
    ]);
    expect(leftovers.stdout).toBe("end\n");
  });

  it("passes kiln test on both platforms (policy: no setuid/setgid files, labels; command tests)", async () => {
    const r = await kiln(["test", "debian"], env("storeA", "cacheA", await config("default", {})));
    expect(r.stdout + r.stderr).not.toMatch(/✗/);
    expect(r.code).toBe(0);
  }, BUILD_TIMEOUT);

  it("a tampered cached .deb is refused with both hashes: no image offline, fetched again online", async () => {
    const deb = lock.packages.amd64!.find((p) => p.name === "base-files")!;
    const entry = debStore(path.join(dir, "cacheA")).pathOf("sha256", deb.sha256);
    await fs.writeFile(entry, "tampered\n");
    const bad = await hashFile(entry);
    const cfg = await config("offline", { ...DEAD_MIRRORS, offline: true });
    const r = await kiln(["build", "debian", "--no-cache", "--progress", "quiet"], env("storeD", "cacheA", cfg));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`base-files ${deb.version} (amd64) does not match the lock: expected sha256 ${deb.sha256}, got ${bad}`);
    const store = await OciStore.open(path.join(dir, "storeD"));
    expect(await store.resolve("debian:image")).toBeUndefined();

    await fs.writeFile(entry, "tampered\n");
    const lines: string[] = [];
    const debs = await fetchLockedDebs(lock, "amd64", settingsSchema.parse({}), path.join(dir, "cacheA"), { log: (l) => lines.push(l) });
    expect(lines[0]).toContain(`expected sha256 ${deb.sha256}, got ${bad}; removed it and fetching it again`);
    expect(await hashFile(debs.get("base-files")!)).toBe(deb.sha256);
  });
});
