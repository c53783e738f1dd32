/**
 * images/pki on the real engine: step-ca compiled from Debian's source package
 * (golang-github-smallstep-certificates 0.19.0-1) for amd64 and arm64 on the build
 * platform, PIE Go programs on base:runtime with no RUN. `kiln test` proves it with
 * Debian's lego from the tools image: a certificate over ACME HTTP-01 (lego answering
 * from its own container), chained by openssl to the root from /roots.pem, a second
 * order after a restart on the same /data, the first serial still in the database
 * (revoked by serial), a name outside the policy and a forged account key refused.
 * A CA without a name policy (test/fixtures/pki-open-policy) fails exactly the
 * policy proof, naming the rule.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { lockSchema } from "../../src/lock/schema.ts";
import { readLayer, squash } from "../../src/oci/layers.ts";
import { OciStore, type OciIndex, type OciManifest } from "../../src/oci/store.ts";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, readImage, type Built, proofPlatforms, proofPlatformFlags } from "./base-family.ts";
import { kiln, REPO } from "./helpers.ts";

const env = familyEnv();
const OPEN_POLICY = path.join(REPO, "test/fixtures/pki-open-policy");
let pki: Built;

beforeAll(async () => {
  await buildBase(env);
  await build(env, "tools");
  pki = await build(env, "pki");
});

const proofs = (out: string, platform: string) => clientProofs(out, `pki:image ${platform}`);

const ACME = [
  "setup",
  "lego obtains a certificate over HTTP-01",
  "openssl verify chains it to the root from /roots.pem",
  "a second order after a restart on the same /data",
  "the second certificate chains to the same root",
  "the first certificate's serial is in the database",
  "an order signed with an unknown account key is refused",
  "the JWK provisioner is listed",
  "an order for a name outside PKI_ACME_NAMES is refused",
].map((s) => `client-test acme with lego / ${s}`);

/** ELF e_machine of the x86-64 and AArch64 architectures. */
const MACHINE: Record<string, number> = { "linux/amd64": 0x3e, "linux/arm64": 0xb7 };

/** One program of a stored platform image (readImage keeps small files only). */
async function head(digest: string, platform: string, file: string): Promise<Buffer> {
  const store = await OciStore.open(env.KILN_STORE!);
  const index = await store.readJson<OciIndex>(digest);
  const desc = index.manifests.find((m) => `${m.platform?.os}/${m.platform?.architecture}` === platform)!;
  const manifest = await store.readJson<OciManifest>(desc.digest);
  const layers = [];
  for (const l of manifest.layers) layers.push(await readLayer(store, l, { keepContentBytes: 64 * 1024 * 1024, keepContentOf: (p) => p === file, hashFiles: false }));
  return squash(layers).get(file)!.content!;
}

describe("pki", () => {
  it("locks the source package, its files and the Go libraries as build-dependencies on top of the builder", async () => {
    const lock = lockSchema.parse(JSON.parse(await fs.readFile(path.join(env.KILN_CATALOG!, "images/pki/kiln.lock.json"), "utf8")));
    const src = lock.debianSource!.certificates!;
    expect(src.version).toBe("0.19.0-1");
    expect(src.files.map((f) => f.name)).toEqual([
      "golang-github-smallstep-certificates_0.19.0-1.dsc",
      "golang-github-smallstep-certificates_0.19.0.orig.tar.gz",
      "golang-github-smallstep-certificates_0.19.0-1.debian.tar.xz",
    ]);
    expect(src.files[1]!.sha256).toBe("6135a7bb49d7bd003e0344b69be98d080c0299f5437c5e6a9ecdf0b37f76e9bd");
    for (const target of ["amd64", "arm64"]) {
      const names = src.buildDepends.amd64![target]!.map((d) => d.name);
      expect(names).toEqual(expect.arrayContaining(["golang-step-crypto-dev", "golang-step-cli-utils-dev", "golang-github-smallstep-nosql-dev", "golang-golang-x-crypto-dev"]));
    }
    const check = await kiln(["lock", "pki", "--check"], env);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  it.each(["linux/amd64", "linux/arm64"])("%s: step-ca and pki-init for the target on base:runtime, no RUN, the declared runtime", async (platform) => {
    const img = await readImage(env, pki.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of ["usr/bin/step-ca", "usr/bin/pki-init", "boot/entrypoint.sh", "usr/share/doc/step-ca/LICENSE", "usr/share/kiln/packages/go-libraries.tsv"]) expect(img.files.has(need), need).toBe(true);
    for (const program of ["usr/bin/step-ca", "usr/bin/pki-init"]) {
      const elf = await head(pki.digest, platform, program);
      expect(elf.subarray(0, 4).toString("latin1"), program).toBe("\x7fELF");
      expect(elf.readUInt16LE(16), `${program}: ET_DYN, position independent`).toBe(3);
      expect(elf.readUInt16LE(18), `${program} ${platform}`).toBe(MACHINE[platform]);
    }
    const libraries = (await img.read("usr/share/kiln/packages/go-libraries.tsv"))!.toString("utf8");
    expect(libraries).toMatch(/^golang-step-crypto-dev\t[^\t]+\tall\t[0-9a-f]{64}$/m);
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    const config = img.config.config as typeof img.config.config & { Volumes?: Record<string, unknown> };
    expect(config.User).toBe("2000:2000");
    expect(config.Healthcheck?.Test).toEqual(["CMD", "/usr/bin/pki-init", "health"]);
    expect(Object.keys(config.Volumes ?? {}).sort()).toEqual(["/data"]);
    console.log(`${platform}: pki ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(20e6);
  });

  it(`passes kiln test on ${proofPlatforms().join(" and ")}, lego's proofs included`, async () => {
    const r = await kiln(["test", "pki", ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of proofPlatforms()) expect(proofs(r.stdout, platform), platform).toEqual(ACME.map((p) => `✓ ${p}`));
  });

  it("a CA without a name policy fails exactly the policy proof, naming the rule", async () => {
    const r = await kiln(["test", "pki", "--platform", "linux/amd64"], { ...env, KILN_CATALOG: OPEN_POLICY });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(proofs(r.stdout, "linux/amd64")).toEqual(ACME.map((p) => `${p.endsWith("outside PKI_ACME_NAMES is refused") ? "✗" : "✓"} ${p}`));
    expect(r.stdout).toContain("[outside] Server responded with a certificate.");
    expect(r.stdout).toMatch(/FAILED 1 of \d+ checks: pki:image linux\/amd64 client-test \(acme with lego \/ an order for a name outside PKI_ACME_NAMES is refused\)/);
  });
});
