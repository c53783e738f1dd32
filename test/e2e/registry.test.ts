/**
 * images/registry on the real engine, built once (`kiln verify registry` checks
 * it bit for bit): Debian's docker-registry of the target architecture and
 * nothing else of its locked closure. `kiln test` proves it on amd64 and on
 * arm64 (qemu) with real clients from the tools image: a push from kiln's store
 * with digests preserved, the stored digest served and pulled back, metrics
 * counting the push, the image still there after a restart on the same /data,
 * htpasswd auth over verified TLS; the start-up warning of a registry anyone can
 * push to, absent with auth or on loopback. A registry that refuses pushes
 * (test/fixtures/registry-read-only) fails exactly its push proofs, naming the rule.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, readImage, type Built, proofPlatforms, proofPlatformFlags } from "./base-family.ts";
import { kiln, REPO } from "./helpers.ts";

const env = familyEnv();
const READ_ONLY = path.join(REPO, "test/fixtures/registry-read-only");
let registry: Built;
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-e2e-registry-"));
  await buildBase(env);
  await build(env, "tools");
  registry = await build(env, "registry");
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const proofs = (out: string, platform: string) => clientProofs(out, `registry:image ${platform}`);

const PUSH_AND_PULL = [
  "setup",
  "push from the store with digests preserved",
  "the registry serves the stored digest",
  "pull back, same digest",
  "metrics count the pushed manifests",
  "after a restart on the same /data the image is still there",
  "the catalog lists it",
  "the log warns that anyone can push",
].map((s) => `client-test push and pull / ${s}`);
const AUTH_TLS = [
  "setup",
  "no warning with authentication on",
  "a client without the CA refuses the certificate",
  "the API answers 401 without credentials",
  "an unauthenticated push is refused",
  "a wrong password is refused",
  "an authenticated push works",
  "pull back over verified TLS, same digest",
].map((s) => `client-test htpasswd auth over TLS / ${s}`);
const LOOPBACK = ["setup", "no warning on loopback", "the container's address does not answer"].map((s) => `client-test API on loopback only / ${s}`);

describe("registry", () => {
  it.each(["linux/amd64", "linux/arm64"])("%s: docker-registry alone on base:runtime, its manifest, no RUN, the declared runtime", async (platform) => {
    const arch = platform.split("/")[1]!;
    const img = await readImage(env, registry.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of ["usr/bin/docker-registry", "boot/healthcheck", "boot/entrypoint.sh", "usr/share/doc/docker-registry/copyright", "usr/share/kiln/packages/base-runtime.tsv"]) {
      expect(img.files.has(need), need).toBe(true);
    }
    // The closure's maintainer-script helpers and the packaged config are not shipped.
    for (const never of ["usr/sbin/adduser", "usr/bin/perl", "usr/sbin/update-rc.d", "etc/docker/registry/config.yml", "var/lib/docker-registry"]) expect(img.files.has(never), never).toBe(false);
    const manifest = (await img.read("usr/share/kiln/packages/registry.tsv"))!.toString("utf8");
    const lines = manifest.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^docker-registry\\t2\\.8\\.[^\\t]+\\t${arch}\\t[0-9a-f]{64}$`));
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    const config = img.config.config as typeof img.config.config & { Volumes?: Record<string, unknown> };
    expect(config.User).toBe("2000:2000");
    expect(config.Healthcheck?.Test).toEqual(["CMD", "/boot/healthcheck", "5001", "/debug/health"]);
    expect(Object.keys(config.Volumes ?? {})).toEqual(["/data"]);
    console.log(`${platform}: registry ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(20e6);
  });

  it(`passes kiln test on ${proofPlatforms().join(" and ")}, client proofs included; the JUnit report names each proof`, async () => {
    const junit = path.join(dir, "registry.xml");
    const r = await kiln(["test", "registry", "--junit", junit, ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of proofPlatforms()) expect(proofs(r.stdout, platform), platform).toEqual([...PUSH_AND_PULL, ...AUTH_TLS, ...LOOPBACK].map((p) => `✓ ${p}`));
    const xml = await fs.readFile(junit, "utf8");
    expect(xml).toMatch(/<testsuites name="kiln test" tests="\d+" failures="0">/);
    expect(xml).toContain('name="client-test: push and pull / after a restart on the same /data the image is still there"');
    expect(xml).toContain("same digest: sha256:");
  });

  it("a registry that refuses pushes fails exactly its push proofs, naming the rule", async () => {
    const r = await kiln(["test", "registry", "--platform", "linux/amd64"], { ...env, KILN_CATALOG: READ_ONLY });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const failed = r.stdout.split("\n").filter((l) => /^ {2}✗ /.test(l));
    expect(failed.map((l) => l.slice(0, l.indexOf(":")).trim())).toEqual([
      "✗ client-test push and pull / push from the store with digests preserved",
      "✗ client-test htpasswd auth over TLS / an authenticated push works",
    ]);
    // The registry's own refusal is shown, and the proofs it stops are named.
    expect(r.stdout).toContain("StatusCode: 405, Method not allowed");
    expect(r.stdout).toContain("not run: the registry serves the stored digest, pull back, same digest");
    expect(proofs(r.stdout, "linux/amd64")).toEqual([
      "✓ client-test push and pull / setup",
      "✗ client-test push and pull / push from the store with digests preserved",
      ...AUTH_TLS.slice(0, 6).map((p) => `✓ ${p}`),
      "✗ client-test htpasswd auth over TLS / an authenticated push works",
      ...LOOPBACK.map((p) => `✓ ${p}`),
    ]);
    expect(r.stdout).toMatch(
      /FAILED 2 of \d+ checks: registry:image linux\/amd64 client-test \(push and pull \/ push from the store with digests preserved\), registry:image linux\/amd64 client-test \(htpasswd auth over TLS \/ an authenticated push works\)/,
    );
  });
});
