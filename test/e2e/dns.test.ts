/**
 * images/dns on the real engine: Knot Resolver and its fixture, Knot DNS
 * (dns:authority), built once for both platforms (`kiln verify dns` checks them
 * bit for bit). `kiln test dns` proves the resolver from a real client on amd64
 * and arm64 (qemu): against a zone the fixture signs when it starts, a signed
 * name resolves with AD, a name whose signature was broken gives SERVFAIL, DNS
 * over TLS answers and the answer counters grow. A resolver that trusts the
 * wrong key fails that proof, naming the rule and the step.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { OciStore } from "../../src/oci/store.ts";
import { build, buildBase, familyEnv, FORBIDDEN_IN_RUNTIME, readImage, type Built, proofPlatforms, proofPlatformFlags } from "./base-family.ts";
import { kiln, REPO } from "./helpers.ts";

const env = familyEnv();
const PLATFORMS = ["linux/amd64", "linux/arm64"];
const STEPS = [
  "setup",
  "signed name resolves with AD",
  "broken signature gives SERVFAIL",
  "broken name answers with checking disabled",
  "DNS over TLS answers",
  "answer counters grow",
];
let dns: Built;
let authority: Built;

/** The `client-test` lines of a `kiln test` output, without their message. */
const marks = (out: string) =>
  out
    .split("\n")
    .filter((l) => /^ {2}[✓✗] client-test/.test(l))
    .map((l) => l.split(":")[0]!.trim());

/** The indented lines under every `REF PLATFORM` heading of a `kiln test` output (static checks, then the run). */
function section(out: string, ref: string, platform: string): string {
  const lines: string[] = [];
  let inside = false;
  for (const line of out.split("\n")) {
    if (/^\S/.test(line)) inside = line === `${ref} ${platform}`;
    else if (inside) lines.push(line);
  }
  return lines.join("\n");
}

beforeAll(async () => {
  await buildBase(env);
  // The proof's client; the tools test builds it too, the family store keeps it.
  const store = await OciStore.open(env.KILN_STORE!);
  if (!(await store.resolve("tools:image"))) await build(env, "tools");
  dns = await build(env, "dns");
  authority = await build(env, "dns:authority");
});

describe("dns", () => {
  it("builds the resolver and its fixture for both platforms", () => {
    expect(Object.keys(dns.manifests).sort()).toEqual(PLATFORMS);
    expect(Object.keys(authority.manifests).sort()).toEqual(PLATFORMS);
  });

  it.each(PLATFORMS)("%s: kresd, its modules and the root key; no knotd, packaging tools or web UI packages; no RUN", async (platform) => {
    const img = await readImage(env, dns.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    const triplet = platform === "linux/amd64" ? "x86_64-linux-gnu" : "aarch64-linux-gnu";
    for (const need of [
      "usr/sbin/kresd",
      `usr/lib/${triplet}/knot-resolver/kres_modules/http.lua`,
      "usr/share/lua/5.1/http/server.lua",
      "usr/share/dns/root.key",
      "boot/entrypoint.sh",
      "boot/healthcheck",
    ]) {
      expect(img.files.has(need), need).toBe(true);
    }
    for (const never of ["usr/sbin/knotd", "usr/sbin/adduser", "usr/bin/perl", "usr/sbin/kresc", "usr/share/javascript"]) expect(img.files.has(never), never).toBe(false);
    const tsv = (await img.read("usr/share/kiln/packages/dns.tsv"))!.toString("utf8");
    const packages = tsv.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[0]);
    expect(packages).toContain("knot-resolver");
    expect(packages).toContain("knot-resolver-module-http");
    for (const unused of ["knot", "adduser", "debconf", "perl-base", "libjs-jquery", "libc6"]) expect(packages).not.toContain(unused);
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    expect(img.config.config.User).toBe("2000:2000");
    console.log(`${platform}: dns ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(20e6);
  });

  it(`passes kiln test on ${proofPlatforms().join(" and ")}: policy, health, metrics, command tests and the DNSSEC proof from kdig`, async () => {
    const r = await kiln(["test", "dns", ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of proofPlatforms()) expect(marks(section(r.stdout, "dns:image", platform))).toEqual(STEPS.map((s) => `✓ client-test dnssec / ${s}`));
    expect(r.stdout).toMatch(/✓ probe-metrics/);
  });

  it(`passes kiln test for the fixture on ${proofPlatforms().join(" and ")}`, async () => {
    const r = await kiln(["test", "dns:authority", ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it("fails the proof when the resolver trusts another key, naming the rule and the step", async () => {
    const r = await kiln(["test", "dns", "--platform", "linux/amd64"], { ...env, KILN_CATALOG: path.join(REPO, "test/fixtures/dns-wrong-anchor") });
    expect(r.code).toBe(1);
    expect(marks(r.stdout)).toEqual(["✓ client-test dnssec / setup", "✗ client-test dnssec / signed name resolves with AD"]);
    expect(r.stdout).toContain('✗ client-test dnssec / signed name resolves with AD: output lacks "status: NOERROR"');
    expect(r.stdout).toContain("EDE: 6 (DNSSEC Bogus)");
    expect(r.stdout).toMatch(/FAILED 1 of \d+ checks: dns:image linux\/amd64 client-test \(dnssec \/ signed name resolves with AD\)\n$/);
  });
});
