/**
 * A hostile Debian mirror: a local HTTP server with its own archive key,
 * pinned the way a site pins its own archive (apt.archiveKeyring, by sha256).
 * It serves an InRelease signed by an expired key, replays an older (validly
 * signed) InRelease to `kiln refresh`, and answers an index or an InRelease
 * with bytes that never end. Each is refused in one line naming what and why,
 * with a non-zero exit, and nothing is left: no lock written or changed, no
 * cache entry, no temporary file.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArchiveKey, makeArchiveKey, MirrorServer, packageStanza } from "../../support/debian-mirror.ts";
import { tempDir } from "../../support/temp-dir.ts";
import { kiln, writeCatalog, type CliResult } from "../helpers.ts";

const SUITES = ["bookworm", "bookworm-updates", "bookworm-security"];
const DAY = 86_400_000;
const NEW = new Date(Math.floor((Date.now() - DAY) / 1000) * 1000);
const OLD = new Date(NEW.getTime() - 9 * DAY);
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const DEFINITION = `import { defineImage } from "{{kiln}}";
export default defineImage({ name: "app", category: "experimental", description: "hostile mirror", dockerfile: "Dockerfile", platforms: ["linux/amd64"], inputs: { debian: { suite: "bookworm", packages: ["hello"] } } });
`;

let key: ArchiveKey;
let expired: ArchiveKey;
let server: MirrorServer;

beforeAll(async () => {
  [key, expired] = await Promise.all([makeArchiveKey("Kiln Test Archive <archive@example.org>"), makeArchiveKey("Kiln Expired Archive <old@example.org>", { expiredSince: "20200101T000000" })]);
  server = await new MirrorServer().start();
});
afterAll(async () => {
  await server?.stop();
  await Promise.all([key, expired].map((k) => k?.cleanup()));
});

/** A catalog with one image asking for `hello`, its own store, cache, temp folder and a site config trusting `trusted`. */
async function site(trusted: ArchiveKey, prefix: string): Promise<{ root: string; env: NodeJS.ProcessEnv; lockFile: string; cache: string; tmp: string }> {
  const root = await tempDir(`kiln-hostile-mirror-${prefix}-`);
  await writeCatalog(root, { "images/app/image.ts": DEFINITION, "images/app/Dockerfile": "FROM scratch\n", "package.json": '{ "type": "module" }\n' });
  const mirror = server.url(`/${prefix}/debian`);
  const config = path.join(root, "config.json");
  await fs.writeFile(config, JSON.stringify({ apt: { mirrors: [mirror], securityMirrors: [mirror], archiveKeyring: { file: trusted.keyring, sha256: trusted.sha256 } } }));
  const tmp = path.join(root, "tmp");
  await fs.mkdir(tmp);
  const cache = path.join(root, "cache");
  return { root, env: { KILN_CATALOG: root, KILN_STORE: path.join(root, "store"), KILN_CACHE_DIR: cache, KILN_CONFIG: config, TMPDIR: tmp }, lockFile: path.join(root, "images/app/kiln.lock.json"), cache, tmp };
}

/** Every file under `dir` (relative paths), none when it does not exist. */
async function files(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  // tsx (which runs kiln here) keeps its compile cache in $TMPDIR: not kiln's.
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .filter((f) => !f.startsWith("tsx-"))
    .sort();
}

/** Publishes every suite under `/<prefix>/debian`, dated `at`, signed by `by`; returns each suite's files as served. */
function publish(prefix: string, at: Date, by: ArchiveKey): Map<string, Buffer> {
  for (const suite of SUITES) server.publish(suite, at, by, suite === "bookworm" ? packageStanza("hello", "2.10-3") : "");
  const published = new Map<string, Buffer>();
  for (const [p, body] of server.files) if (p.startsWith("/debian/")) published.set(`/${prefix}${p}`, body);
  for (const [p, body] of published) server.files.set(p, body);
  return published;
}

/** Exit code, stdout, and kiln's own lines on stderr (progress lines aside): a refusal is exactly one. */
const outcome = (r: CliResult) => [r.code, r.stdout, r.stderr.split("\n").filter((l) => l.startsWith("kiln:"))];

describe("a hostile Debian mirror", { timeout: 180_000 }, () => {
  it("an InRelease signed by an expired key (gpgv itself exits 0 for it) is refused, naming the key; no lock, no cache entry", async () => {
    const s = await site(expired, "expired");
    publish("expired", NEW, expired);
    const r = await kiln(["lock", "app"], s.env);
    expect(outcome(r)).toEqual([1, "", [
      `kiln: ${server.url("/expired/debian")}/dists/bookworm/InRelease: signature refused: signed by key ${expired.longId} (Kiln Expired Archive <old@example.org>), which has expired; kiln trusts only good signatures by keys of apt.archiveKeyring ${expired.keyring}; check the mirror setting`,
    ]]);
    await expect(fs.access(s.lockFile)).rejects.toThrow();
    // The cache holds the pinned keyring alone (copied there by its sha256), nothing the mirror sent.
    expect(await files(s.cache)).toEqual([`blobs/sha256/${expired.sha256}`]);
    expect(await files(s.tmp)).toEqual([]);
  });

  it("a replayed older InRelease is refused by refresh, naming both dates; the lock stays as it was", async () => {
    const s = await site(key, "replay");
    const old = publish("replay", OLD, key);
    publish("replay", NEW, key);
    const locked = await kiln(["lock", "app"], s.env);
    expect([locked.code, locked.stderr.split("\n").filter((l) => l.startsWith("kiln:"))]).toEqual([0, []]);
    const lock = await fs.readFile(s.lockFile, "utf8");
    expect(JSON.parse(lock).debian.releaseDates).toEqual(Object.fromEntries(SUITES.map((suite) => [suite, iso(NEW).replace(/[-:]/g, "")])));
    const cached = await files(s.cache);
    // The security suite frozen at its older state: its InRelease and index, as once signed.
    for (const [p, body] of old) if (p.includes("/bookworm-security/")) server.files.set(p, body);
    const r = await kiln(["refresh", "app"], s.env);
    expect(outcome(r)).toEqual([1, "", [
      `kiln: ${server.url("/replay/debian")}/dists/bookworm-security/InRelease is dated ${iso(OLD)}, older than the ${iso(NEW)} images/app/kiln.lock.json was made from; a replayed or frozen mirror: use one that is up to date (to go back in time on purpose, name the time with --snapshot)`,
    ]]);
    expect(await fs.readFile(s.lockFile, "utf8")).toBe(lock);
    expect(await files(path.dirname(s.lockFile))).toEqual(["Dockerfile", "image.ts", "kiln.lock.json"]);
    expect(await files(s.cache)).toEqual(cached);
    expect(await files(s.tmp)).toEqual([]);
  });

  it("a lock that does not record per-suite dates (made before kiln did) is held to its snapshot: a whole mirror replayed is refused", async () => {
    const s = await site(key, "frozen");
    const old = publish("frozen", OLD, key);
    publish("frozen", NEW, key);
    expect((await kiln(["lock", "app"], s.env)).code).toBe(0);
    const made = JSON.parse(await fs.readFile(s.lockFile, "utf8"));
    delete made.debian.releaseDates;
    const lock = JSON.stringify(made, null, 2) + "\n";
    await fs.writeFile(s.lockFile, lock);
    for (const [p, body] of old) server.files.set(p, body);
    const r = await kiln(["refresh", "app"], s.env);
    expect(outcome(r)).toEqual([1, "", [
      `kiln: the InRelease files of bookworm, bookworm-updates, bookworm-security are dated ${iso(OLD)} at the newest (bookworm), older than the ${iso(NEW)} images/app/kiln.lock.json was made from; a replayed or frozen mirror: use one that is up to date (to go back in time on purpose, name the time with --snapshot)`,
    ]]);
    expect(await fs.readFile(s.lockFile, "utf8")).toBe(lock);
  });

  it("an index that never ends is cut at the size the signed InRelease gives; no lock, nothing of it in the cache", async () => {
    const s = await site(key, "endless");
    const published = publish("endless", NEW, key);
    const index = "/endless/debian/dists/bookworm/main/binary-amd64/Packages.xz";
    server.endless.add(index);
    const r = await kiln(["lock", "app"], s.env);
    expect(outcome(r)).toEqual([1, "", [
      `kiln: cannot fetch bookworm main/binary-amd64/Packages.xz: ${server.url(index)}: more than the ${published.get(index)!.length} bytes expected; cut there and refused; check the apt mirror settings and the network`,
    ]]);
    await expect(fs.access(s.lockFile)).rejects.toThrow();
    expect(await files(s.cache)).toEqual([`blobs/sha256/${key.sha256}`]);
    expect(await files(s.tmp)).toEqual([]);
  });

  it("an InRelease that never ends is cut at 16 MiB", async () => {
    const s = await site(key, "endless-release");
    publish("endless-release", NEW, key);
    const release = "/endless-release/debian/dists/bookworm/InRelease";
    server.endless.add(release);
    const r = await kiln(["lock", "app"], s.env);
    expect(outcome(r)).toEqual([1, "", [
      `kiln: cannot fetch bookworm InRelease: ${server.url(release)}: more than the 16777216 bytes expected; cut there and refused; check the apt mirror settings and the network`,
    ]]);
    await expect(fs.access(s.lockFile)).rejects.toThrow();
    expect(await files(s.cache)).toEqual([]);
    expect(await files(s.tmp)).toEqual([]);
  });
});
