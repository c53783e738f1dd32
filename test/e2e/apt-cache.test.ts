/**
 * images/apt-cache on the real engine, built once (`kiln verify apt-cache`
 * checks it bit for bit): Debian's apt-cacher-ng and the libraries it links,
 * nothing else of its locked closure. `kiln test` proves it on amd64 and on
 * arm64 (qemu) with curl from the tools image against a router fixture serving
 * a tiny Debian archive: a Release file through the mirror URL and through the
 * HTTP proxy, a package fetched twice with the same bytes, the report page
 * counting more served than fetched, the package kept in /data and still served
 * once the upstream is gone, also after a restart; the report page's maintenance
 * actions refused without the admin login (random by default, from a file when
 * given) while acngtool inside the container runs them. A cache set offline
 * (test/fixtures/apt-cache-offline) fails exactly its first proof.
 *
 * The family's own client: `kiln build debian` on the host, its mirror settings
 * pointing at the cache and a fresh download cache (so every .deb really flows
 * through the proxy), gives the family store's debian digest; restarted on the
 * same /data with an upstream nobody listens on, it still serves every locked
 * .deb with the locked bytes.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockSchema } from "../../src/lock/schema.ts";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, hostPort, readImage, waitHealthy, type Built, proofPlatforms, proofPlatformFlags } from "./base-family.ts";
import { kiln, mustRun, REPO, runCommand } from "./helpers.ts";

const env = familyEnv();
const OFFLINE = path.join(REPO, "test/fixtures/apt-cache-offline");
const tag = `e2e-${process.pid}`;
const image = `kiln-e2e/apt-cache:${tag}`;
const volume = `kiln-e2e-apt-cache-${process.pid}`;
const containers: string[] = [];
const HARDENED = ["--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges", "--user", "2000", "--tmpfs", "/tmp"];
let aptCache: Built;
let debian: Built;
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-e2e-apt-cache-"));
  await buildBase(env);
  debian = await build(env, "debian");
  await build(env, "tools");
  await build(env, "router");
  aptCache = await build(env, "apt-cache");
});

afterAll(async () => {
  for (const c of containers) await runCommand("docker", ["rm", "-f", c]);
  await runCommand("docker", ["volume", "rm", "-f", volume]);
  await runCommand("docker", ["rmi", "-f", image]);
  await fs.rm(dir, { recursive: true, force: true });
});

const proofs = (out: string, platform: string) => clientProofs(out, `apt-cache:image ${platform}`);

const ADMIN = [
  ...["setup", "the statistics page is readable", "a maintenance action from the network is refused", "acngtool inside the container runs it"].map((s) => `client-test maintenance without an admin login / ${s}`),
  ...["setup", "without the login it is refused", "a wrong password is refused", "with the login the expiration runs"].map((s) => `client-test maintenance with an admin login file / ${s}`),
];
const CACHE_A_MIRROR = [
  "setup",
  "a Release file through the mirror URL",
  "the same Release file through the HTTP proxy, as apt uses it",
  "a package fetched twice, same bytes as upstream",
  "the report page counts more served than fetched",
  "the package is stored in /data",
  "the upstream goes away",
  "a package never fetched is unavailable",
  "the cached package is still served",
  "after a restart on the same /data, still served without the upstream",
].map((s) => `client-test cache a mirror / ${s}`);

describe("apt-cache", () => {
  it.each(["linux/amd64", "linux/arm64"])("%s: apt-cacher-ng and its libraries on base:runtime, its manifest, no RUN, the declared runtime", async (platform) => {
    const img = await readImage(env, aptCache.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of ["usr/sbin/apt-cacher-ng", "usr/lib/apt-cacher-ng/acngtool", "usr/lib/apt-cacher-ng/report.html", "usr/lib/apt-cacher-ng/deb_mirrors.gz", "boot/healthcheck", "boot/entrypoint.sh", "usr/share/doc/apt-cacher-ng/copyright", "usr/share/kiln/packages/base-runtime.tsv"]) {
      expect(img.files.has(need), need).toBe(true);
    }
    // Of bash's loadable builtins only mkdir and ln (the entrypoint makes the log folder in /tmp with them).
    expect(names.filter((n) => n.startsWith("usr/lib/bash/")).sort()).toEqual(["usr/lib/bash/ln", "usr/lib/bash/mkdir"]);
    // The closure's maintainer-script helpers, the FUSE client and the packaged config are not shipped.
    for (const never of ["usr/sbin/adduser", "usr/bin/perl", "usr/bin/debconf", "usr/lib/apt-cacher-ng/acngfs", "etc/apt-cacher-ng/acng.conf", "etc/cron.daily/apt-cacher-ng", "var/cache/apt-cacher-ng"]) expect(img.files.has(never), never).toBe(false);
    const manifest = (await img.read("usr/share/kiln/packages/apt-cache.tsv"))!.toString("utf8");
    expect(manifest).toMatch(/^apt-cacher-ng\t3\.7\.[^\t]+\t/m);
    expect(manifest).not.toMatch(/^(adduser|debconf|perl-base|libfuse2)\t/m);
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    const config = img.config.config as typeof img.config.config & { Volumes?: Record<string, unknown> };
    expect(config.User).toBe("2000:2000");
    expect(config.Healthcheck?.Test).toEqual(["CMD", "bash", "-c", 'exec /boot/healthcheck "${APT_CACHE_PORT:-3142}" /acng-report.html']);
    expect(Object.keys(config.Volumes ?? {})).toEqual(["/data"]);
    console.log(`${platform}: apt-cache ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(12e6);
  });

  it(`passes kiln test on ${proofPlatforms().join(" and ")}, client proofs included`, async () => {
    const r = await kiln(["test", "apt-cache", ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of proofPlatforms()) expect(proofs(r.stdout, platform), platform).toEqual([...ADMIN, ...CACHE_A_MIRROR].map((p) => `✓ ${p}`));
  });

  it("a cache set offline fails exactly its first proof, naming the rule", async () => {
    const r = await kiln(["test", "apt-cache", "--platform", "linux/amd64"], { ...env, KILN_CATALOG: OFFLINE });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const failed = r.stdout.split("\n").filter((l) => /^ {2}✗ /.test(l));
    expect(failed.map((l) => l.slice(0, l.indexOf(":")).trim())).toEqual(["✗ client-test cache a mirror / a Release file through the mirror URL"]);
    // curl's own words for the cache's refusal, and the proofs it stops are named.
    expect(r.stdout).toContain("The requested URL returned error: 503");
    expect(r.stdout).toContain("not run: the same Release file through the HTTP proxy");
    expect(r.stdout).toMatch(/FAILED 1 of \d+ checks: apt-cache:image linux\/amd64 client-test \(cache a mirror \/ a Release file through the mirror URL\)/);
  });

  describe("kiln build debian through the cache", () => {
    const amd64 = "linux/amd64";
    let port = 0;

    /** The cache, locked down, on the shared /data volume, published on 127.0.0.1. */
    async function startCache(name: string, extra: Record<string, string> = {}): Promise<void> {
      containers.push(name);
      const args = ["run", "-d", "--name", name, "--platform", amd64, ...HARDENED, "-v", `${volume}:/data`, "-p", "127.0.0.1::3142"];
      for (const [k, v] of Object.entries(extra)) args.push("-e", `${k}=${v}`);
      await mustRun("docker", [...args, image]);
      await waitHealthy(name);
      port = await hostPort(name, 3142);
    }

    /** `kiln build debian` for amd64 into a fresh store with a fresh download cache, every mirror pointing at the cache. */
    async function buildDebianThroughCache(what: string): Promise<Built> {
      const fresh = await fs.mkdtemp(path.join(dir, `${what}-`));
      const r = await kiln(
        ["build", "debian", "--platform", amd64, "--json", "--progress", "quiet",
          "--set", `apt.mirrors=http://127.0.0.1:${port}/debian`, "--set", `apt.securityMirrors=http://127.0.0.1:${port}/debian-security`],
        { ...env, KILN_STORE: path.join(fresh, "store"), KILN_CACHE_DIR: path.join(fresh, "cache") },
      );
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      return JSON.parse(r.stdout) as Built;
    }

    /** The .debs the debian image locks for amd64 (what its build through the cache asks for). */
    async function lockedDebs() {
      const lock = lockSchema.parse(JSON.parse(await fs.readFile(path.join(REPO, "images/debian/kiln.lock.json"), "utf8")));
      return lock.debian!.packages.amd64!;
    }

    /** The transfer log lines (`time|I or O|bytes|client|path`) for the locked .debs. */
    async function poolLines(name: string): Promise<{ fetched: Set<string>; served: Set<string> }> {
      const logs = await runCommand("docker", ["logs", name]);
      const fetched = new Set<string>();
      const served = new Set<string>();
      for (const line of logs.stdout.split("\n")) {
        const m = /^\d+\|([IO])\|\d+\|[^|]+\|(?:debrep|secdeb)\/(pool\/\S+\.deb)$/.exec(line);
        if (m) (m[1] === "I" ? fetched : served).add(m[2]!);
      }
      return { fetched, served };
    }

    it("with a fresh download cache, every locked .deb comes through the cache, and the digest is the family's", async () => {
      const wanted = (await lockedDebs()).map((d) => d.path).sort();
      await build(env, "apt-cache", ["--load", "--image", image.split(":")[0]!, "--tag", tag]);
      await mustRun("docker", ["volume", "create", volume]);
      const name = `kiln-e2e-apt-cache-${process.pid}`;
      await startCache(name);
      const built = await buildDebianThroughCache("first");
      expect(built.manifests[amd64]).toBe(debian.manifests[amd64]);
      const { fetched, served } = await poolLines(name);
      expect([...served].sort()).toEqual(wanted);
      expect([...fetched].sort()).toEqual(wanted);
      // Stored in the cache's volume.
      const onDisk = await mustRun("docker", ["run", "--rm", ...HARDENED, "-v", `${volume}:/data:ro`, "--entrypoint", "bash", image, "-c", 'shopt -s globstar nullglob; n=0; for f in /data/debrep/pool/**/*.deb /data/secdeb/pool/**/*.deb; do [ -s "$f" ] && n=$((n + 1)); done; echo $n']);
      expect(Number(onDisk.trim())).toBe(wanted.length);
      await mustRun("docker", ["stop", name]);
    });

    it("restarted with an unreachable upstream, every locked .deb is served from the cache alone, bytes as locked", async () => {
      const name = `kiln-e2e-apt-cache-offline-${process.pid}`;
      await startCache(name, { APT_CACHE_UPSTREAM: "http://127.0.0.1:9/debian", APT_CACHE_SECURITY_UPSTREAM: "http://127.0.0.1:9/debian-security" });
      // The upstream is really gone: what the cache does not hold cannot be had.
      const missing = await runCommand("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${port}/debian/pool/main/h/hello/hello_2.10-3_amd64.deb`]);
      expect(missing.stdout).toBe("503");
      // What the first test's build fetched, asked for again the way apt asks (through the
      // mirror URLs kiln was given): the bytes the lock pins. A second debian build would
      // prove the same with three more minutes of mmdebstrap.
      const debs = await lockedDebs();
      const into = await fs.mkdtemp(path.join(dir, "offline-"));
      for (const [i, d] of debs.entries()) {
        const file = path.join(into, `${i}.deb`);
        await mustRun("curl", ["-fsS", "-o", file, `http://127.0.0.1:${port}/${d.archive}/${d.path}`]);
        expect(createHash("sha256").update(await fs.readFile(file)).digest("hex"), d.path).toBe(d.sha256);
      }
      const { fetched, served } = await poolLines(name);
      expect(fetched.size).toBe(0);
      expect([...served].sort()).toEqual(debs.map((d) => d.path).sort());
    });
  });
});
