/**
 * Signatures end to end: two tiny fixture images kiln built are pushed to the
 * local registry (plain HTTP, insecure in the default settings) under one
 * unique repository; a key pair made here with cosign signs the first by
 * digest, and verification succeeds against the public key. Then it must
 * fail, with one line naming the digest and the key: for a different image
 * pushed under the same tag, for the signature replaced by one made with
 * another key, and for the stored signature altered byte for byte.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokenCatalog } from "../support/broken-catalog.ts";
import { kiln, mustRun, registryDigest, tempEnv, type CliResult } from "./helpers.ts";

const REGISTRY = "127.0.0.1:5000";
const NAMESPACE = `kiln-e2e-sign-${process.pid}`;
const REPOSITORY = `${REGISTRY}/${NAMESPACE}/app`;
const TAG_REF = `${REPOSITORY}:1`;
/** What kiln prints after a failed signature check. */
const DO_NOT_RUN = "; do not run this image; if it was pushed again on purpose, sign the new digest with `kiln sign`\n";

let dir: string;
let env: NodeJS.ProcessEnv;
let keys: { key: string; pub: string; otherKey: string; otherPub: string };
/** The digest first pushed under the tag, and the one pushed over it. */
let signedDigest: string;
let laterDigest: string;

/** A cosign key pair; the password reaches cosign in its own environment only. */
async function keyPair(prefix: string, password: string): Promise<void> {
  await mustRun("cosign", ["generate-key-pair", "--output-key-prefix", path.join(dir, prefix)], { ...process.env, COSIGN_PASSWORD: password });
}

/** Builds a fixture image and pushes it as REPOSITORY:1; returns the pushed digest. */
async function buildAndPush(image: string): Promise<string> {
  const r = await kiln(["build", image, "--json", "--progress", "quiet", "--push", "--registry", `${REGISTRY}/${NAMESPACE}`, "--image", "app", "--tag", "1"], env);
  if (r.code !== 0) throw new Error(`kiln build ${image} --push failed (${r.code}): ${r.stderr}`);
  const built = JSON.parse(r.stdout) as { digest: string; pushed: { ref: string; digest: string }[] };
  expect(built.pushed).toEqual([{ ref: TAG_REF, digest: built.digest }]);
  return built.digest;
}

const hex = (digest: string) => digest.replace("sha256:", "");
const sigTag = (digest: string) => `sha256-${hex(digest)}.sig`;

/** The stored signature manifest of a digest, as the registry serves it. */
async function signatureManifest(digest: string): Promise<{ layers: { annotations: Record<string, string> }[]; mediaType: string }> {
  const res = await fetch(`http://${REGISTRY}/v2/${NAMESPACE}/app/manifests/${sigTag(digest)}`, { headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });
  expect(res.status).toBe(200);
  return (await res.json()) as { layers: { annotations: Record<string, string> }[]; mediaType: string };
}

function expectFailure(r: CliResult, line: string): void {
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(line);
  expect(r.code).toBe(1);
}

beforeAll(async () => {
  const temp = await tempEnv("sign");
  dir = temp.dir;
  const catalog = await brokenCatalog(path.join(dir, "catalog"), {}, ["faults"]);
  await keyPair("site", "site password");
  await keyPair("other", "other password");
  keys = { key: path.join(dir, "site.key"), pub: path.join(dir, "site.pub"), otherKey: path.join(dir, "other.key"), otherPub: path.join(dir, "other.pub") };
  // The password file ends with a line break, as an editor writes it.
  await fs.writeFile(path.join(dir, "site.password"), "site password\n", { mode: 0o600 });
  const config = path.join(dir, "config.yaml");
  await fs.writeFile(config, "signing:\n  key: site.key\n  passwordFile: site.password\n  publicKey: site.pub\n");
  env = { ...temp.env, KILN_CATALOG: catalog, KILN_CONFIG: config };
  signedDigest = await buildAndPush("base");
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("kiln sign and kiln verify-signature", () => {
  it("an unsigned digest fails; signed by digest, it verifies by tag and by digest", async () => {
    const unsigned = await kiln(["verify-signature", TAG_REF], env);
    expectFailure(unsigned, `kiln: signature check failed for ${REPOSITORY}@${signedDigest} (tag 1): no signature is stored for this digest; key ${keys.pub}${DO_NOT_RUN}`);

    const signed = await kiln(["sign", TAG_REF], env);
    expect(signed.stderr).toBe("");
    expect(signed.code).toBe(0);
    expect(signed.stdout).toBe(`signed ${REPOSITORY}@${signedDigest} with key ${keys.key}\nsignature: ${REPOSITORY}:${sigTag(signedDigest)}\n`);
    expect(await registryDigest(REGISTRY, `${NAMESPACE}/app`, sigTag(signedDigest))).toMatch(/^sha256:[a-f0-9]{64}$/);

    const byTag = await kiln(["verify-signature", TAG_REF], env);
    expect(byTag.stderr).toBe("");
    expect(byTag.stdout).toBe(`verified ${REPOSITORY}@${signedDigest}: signed with key ${keys.pub} (1 signature)\n`);
    const byDigest = await kiln(["verify-signature", `${REPOSITORY}@${signedDigest}`, "--json"], env);
    expect(byDigest.code, byDigest.stderr).toBe(0);
    expect(JSON.parse(byDigest.stdout)).toEqual({
      ref: `${REPOSITORY}@${signedDigest}`,
      digest: signedDigest,
      signed: `${REPOSITORY}@${signedDigest}`,
      key: keys.pub,
      signatureTag: `${REPOSITORY}:${sigTag(signedDigest)}`,
      signatures: 1,
    });
    // The other key did not sign it.
    const otherKey = await kiln(["verify-signature", TAG_REF, "--set", `signing.publicKey=${keys.otherPub}`], env);
    expect(otherKey.code).toBe(1);
    expect(otherKey.stderr).toContain(`no stored signature verifies with this key (signed with another key, or altered); key ${keys.otherPub}`);
  });

  it("a different image pushed under the same tag fails verification by tag, naming its digest", async () => {
    laterDigest = await buildAndPush("control");
    expect(laterDigest).not.toBe(signedDigest);
    const r = await kiln(["verify-signature", TAG_REF], env);
    expectFailure(r, `kiln: signature check failed for ${REPOSITORY}@${laterDigest} (tag 1): no signature is stored for this digest; key ${keys.pub}${DO_NOT_RUN}`);
    // The signed digest itself still verifies.
    expect((await kiln(["verify-signature", `${REPOSITORY}@${signedDigest}`], env)).code).toBe(0);
  });

  it("a signature replaced by one made with another key fails", async () => {
    // The other key signs the same digest; its signature is written over the site's.
    const scratch = `${REGISTRY}/${NAMESPACE}/scratch`;
    await mustRun("cosign", ["sign", "--key", keys.otherKey, "--tlog-upload=false", "--yes", `${REPOSITORY}@${signedDigest}`], {
      ...process.env,
      COSIGN_PASSWORD: "other password",
      COSIGN_REPOSITORY: scratch,
    });
    await mustRun("skopeo", ["copy", "--quiet", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${scratch}:${sigTag(signedDigest)}`, `docker://${REPOSITORY}:${sigTag(signedDigest)}`]);
    const r = await kiln(["verify-signature", `${REPOSITORY}@${signedDigest}`], env);
    expectFailure(r, `kiln: signature check failed for ${REPOSITORY}@${signedDigest}: no stored signature verifies with this key (signed with another key, or altered); key ${keys.pub}${DO_NOT_RUN}`);
    // It is a real signature, by the other key.
    const other = await kiln(["verify-signature", `${REPOSITORY}@${signedDigest}`, "--set", `signing.publicKey=${keys.otherPub}`], env);
    expect(other.code, other.stderr).toBe(0);
  });

  it("a stored signature altered byte for byte fails", async () => {
    // Signed again: the site's signature is back beside the other key's.
    expect((await kiln(["sign", `${REPOSITORY}@${signedDigest}`], env)).code).toBe(0);
    expect((await kiln(["verify-signature", `${REPOSITORY}@${signedDigest}`], env)).code).toBe(0);
    const manifest = await signatureManifest(signedDigest);
    expect(manifest.layers.length).toBe(2);
    for (const layer of manifest.layers) {
      const sig = Buffer.from(layer.annotations["dev.cosignproject.cosign/signature"]!, "base64");
      sig[sig.length - 1]! ^= 0x01;
      layer.annotations["dev.cosignproject.cosign/signature"] = sig.toString("base64");
    }
    const put = await fetch(`http://${REGISTRY}/v2/${NAMESPACE}/app/manifests/${sigTag(signedDigest)}`, { method: "PUT", headers: { "Content-Type": manifest.mediaType }, body: JSON.stringify(manifest) });
    expect(put.status).toBe(201);
    const r = await kiln(["verify-signature", `${REPOSITORY}@${signedDigest}`], env);
    expectFailure(r, `kiln: signature check failed for ${REPOSITORY}@${signedDigest}: no stored signature verifies with this key (signed with another key, or altered); key ${keys.pub}${DO_NOT_RUN}`);
  });

  it("a missing key, a catalog ref or a wrong password: one line each, and nothing signed", async () => {
    const empty = path.join(dir, "empty.json");
    await fs.writeFile(empty, "{}\n");
    const noKey = await kiln(["sign", TAG_REF], { ...env, KILN_CONFIG: empty });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/^kiln: no signing key: signing.key is not set in the site settings; create one with `cosign generate-key-pair`.*\n$/);
    const noPub = await kiln(["verify-signature", TAG_REF], { ...env, KILN_CONFIG: empty });
    expect(noPub.stderr).toMatch(/^kiln: no key to verify with: signing.publicKey is not set in the site settings; .*\n$/);
    const catalogRef = await kiln(["sign", "base:image"], env);
    expect(catalogRef.code).toBe(1);
    expect(catalogRef.stderr).toMatch(/^kiln: base:image is not a pushed image reference: it names no registry; push it first/);
    const wrongPassword = await kiln(["sign", TAG_REF, "--set", `signing.passwordFile=${keys.pub}`], env);
    expect(wrongPassword.stderr).toBe(
      `kiln: signing ${REPOSITORY}@${laterDigest} (tag 1) with key ${keys.key} failed: cannot decrypt the key with the password from signing.passwordFile (wrong password, or the file is not set); nothing was signed\n`,
    );
    expect(await registryDigest(REGISTRY, `${NAMESPACE}/app`, sigTag(laterDigest))).toBeUndefined();
  });
});
