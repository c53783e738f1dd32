/**
 * `kiln sign` and `kiln verify-signature` against a registry someone else
 * can write to (the local docker-registry 2.8). An image kiln stored (a small
 * fixture imported into a private store, with its lock and an SBOM attached
 * the way a build attaches them) is pushed with kiln's own push; then the tag
 * is moved to another image, a digest kiln never built is named, and a forged
 * lock is attached to the genuinely signed image. Signing must refuse in one
 * line and push no signature; verification must name what is not covered;
 * `kiln rebuild` must believe a lock attachment only when the site's key
 * signed it.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachBuildLock, sbomArtifact, type BuildRecord } from "../../../src/build/attachments.ts";
import { attachArtifact } from "../../../src/oci/referrers.ts";
import { OciStore, type Descriptor } from "../../../src/oci/store.ts";
import { pushImage } from "../../../src/oci/publish.ts";
import { settingsSchema } from "../../../src/settings/schema.ts";
import { writeLayout } from "../../support/oci-layout.ts";
import { kiln, mustRun, registryDigest, writeCatalog, type CliResult } from "../helpers.ts";
import { attachLock, pushTinyImage, REGISTRY } from "./registry-fixture.ts";

const LOCK = "application/vnd.kiln.lock.v1+json";
const SPDX = "application/spdx+json";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const UNREACHABLE = "https://127.0.0.1:1/kiln";
const namespace = `kiln-hostile-signing-${process.pid}`;
const repo = `${namespace}/kiln/router`;
const repository = `${REGISTRY}/${repo}`;

let work: string;
let env: NodeJS.ProcessEnv;
let built: { digest: string; lock: string; sbom: string };
let keys: { key: string; pub: string };

const sigTag = (digest: string) => `${digest.replace(":", "-")}.sig`;
/** Whether the registry holds a cosign signature for `digest` in the repository. */
const signatureOf = (digest: string) => registryDigest(REGISTRY, repo, sigTag(digest));

/** One refusal line (the last on stderr), exit 1, nothing on stdout. */
function expectRefused(r: CliResult, line: string | RegExp): void {
  const last = r.stderr.trim().split("\n").at(-1)!;
  if (typeof line === "string") expect(last).toBe(line);
  else expect(last).toMatch(line);
  expect(r.stderr.trim().split("\n").filter((l) => l.startsWith("kiln: ")), r.stderr).toHaveLength(1);
  expect(r.stdout).toBe("");
  expect(r.code).toBe(1);
}

/** An image of the store as `kiln build` leaves it: stored as router:image, its lock and an SBOM attached. */
async function storeImage(store: OciStore, record: BuildRecord): Promise<{ digest: string; lock: string; sbom: string }> {
  const layout = path.join(work, "layout");
  await writeLayout(layout, { layers: [[{ path: "hello", content: "kiln built this\n" }]] });
  const stored = await store.importLayout(layout, "router:image");
  const lock = await attachBuildLock(store, stored.digest, Buffer.from('{\n  "lockVersion": 1\n}\n'), record);
  const sbom = await attachArtifact(store, stored.digest, sbomArtifact({ format: "spdx", platform: "linux/amd64", bytes: Buffer.from('{"spdxVersion":"SPDX-2.3"}') }, record));
  return { digest: stored.digest, lock: lock.digest, sbom: sbom.digest };
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-hostile-signing-"));
  // A catalog naming kiln/router, so that kiln sign knows which stored image a push of that repository is.
  await writeCatalog(path.join(work, "catalog"), {
    "images/router/image.ts": `import { defineImage } from "{{kiln}}";\nexport default defineImage({ name: "router", category: "infrastructure", description: "router", platforms: ["linux/amd64"], outputs: { names: ["kiln/router"] } });\n`,
  });
  const store = await OciStore.open(path.join(work, "store"));
  built = await storeImage(store, { image: "router", target: "image", platforms: ["linux/amd64"], revision: { commit: COMMIT, dirty: false, source: UNREACHABLE } });
  const pushed = await pushImage(store, built.digest, [`${repository}:t`], settingsSchema.parse({}));
  expect(pushed).toEqual([{ ref: `${repository}:t`, digest: built.digest }]);

  await mustRun("cosign", ["generate-key-pair", "--output-key-prefix", path.join(work, "site")], { ...process.env, COSIGN_PASSWORD: "site password" });
  keys = { key: path.join(work, "site.key"), pub: path.join(work, "site.pub") };
  await fs.writeFile(path.join(work, "site.password"), "site password\n", { mode: 0o600 });
  const config = path.join(work, "config.json");
  await fs.writeFile(config, JSON.stringify({ signing: { key: keys.key, passwordFile: path.join(work, "site.password"), publicKey: keys.pub } }));
  env = { KILN_CONFIG: config, KILN_STORE: path.join(work, "store"), KILN_CACHE_DIR: path.join(work, "cache"), KILN_CATALOG: path.join(work, "catalog") };
}, 120_000);

afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe("kiln sign signs only what kiln built", () => {
  let moved: Descriptor;

  it("a tag moved between build and sign: one line naming both digests, no signature pushed", async () => {
    moved = await pushTinyImage(repo, "t", "pushed over the tag by someone else");
    expect(await registryDigest(REGISTRY, repo, "t")).toBe(moved.digest);
    expectRefused(
      await kiln(["sign", `${repository}:t`], env),
      `kiln: tag t of ${repository} resolves to ${moved.digest}, but kiln built and stored ${built.digest} for router:image; nothing was signed; the tag was moved since the push, or the store holds a newer build: push what you mean to sign again, or sign it by digest (${repository}@${built.digest})`,
    );
    for (const d of [moved.digest, built.digest, built.lock, built.sbom]) expect(await signatureOf(d), d).toBeUndefined();
  });

  it("a digest kiln did not build: refused, no signature pushed", async () => {
    expectRefused(
      await kiln(["sign", `${repository}@${moved.digest}`], env),
      `kiln: ${repository}@${moved.digest} resolves to ${moved.digest}, which kiln did not build here: the local store (${path.join(work, "store")}) holds no lock attachment for it; nothing was signed; sign only what kiln built here: kiln build IMAGE --push, then kiln sign`,
    );
    expect(await signatureOf(moved.digest)).toBeUndefined();
  });

  it("the digest kiln built: the image and each of its attachments are signed, and verify-signature says each is covered", async () => {
    const signed = await kiln(["sign", `${repository}@${built.digest}`], env);
    expect(signed.stderr).toBe("");
    expect(signed.code).toBe(0);
    expect(signed.stdout.split("\n")[0]).toBe(`signed ${repository}@${built.digest} with key ${keys.key}`);
    expect(signed.stdout).toContain(`  attachment ${LOCK} ${built.lock}: signed\n`);
    expect(signed.stdout).toContain(`  attachment ${SPDX} (linux/amd64) ${built.sbom}: signed\n`);
    for (const d of [built.digest, built.lock, built.sbom]) expect(await signatureOf(d), d).toBeDefined();

    const verified = await kiln(["verify-signature", `${repository}@${built.digest}`], env);
    expect(verified.stderr).toBe("");
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`verified ${repository}@${built.digest}: signed with key ${keys.pub} (1 signature)\n`);
    expect(verified.stdout).toContain(`  attachment ${LOCK} ${built.lock}: covered\n`);
    expect(verified.stdout).toContain(`  attachment ${SPDX} (linux/amd64) ${built.sbom}: covered\n`);
  });

  it("kiln rebuild believes a lock attachment the site's key signed, and no other", async () => {
    // Signed: trusted enough to clone (the URL does not answer: the clone is what fails).
    const signedLock = await kiln(["rebuild", `${repository}@${built.digest}`], env);
    expectRefused(signedLock, new RegExp(`^kiln: cannot clone the catalog ${UNREACHABLE.replace(/[.]/g, "\\.")}: `));
    expect(signedLock.stderr).toContain(`(lock attachment signed with key ${keys.pub})`);
    // The same record on an image nobody signed: not even cloned.
    const other = await pushTinyImage(`${namespace}/unsigned`, "t", "unsigned");
    await attachLock(`${namespace}/unsigned`, other, Buffer.from('{\n  "lockVersion": 1\n}\n'), { image: "router", target: "image", platforms: ["linux/amd64"], revision: { commit: COMMIT, dirty: false, source: UNREACHABLE } });
    expectRefused(
      await kiln(["rebuild", `${REGISTRY}/${namespace}/unsigned@${other.digest}`], env),
      new RegExp(`^kiln: not rebuilding .*: its lock attachment names the catalog ${UNREACHABLE.replace(/[.]/g, "\\.")}, and nothing the site trusts vouches for it \\(.*lock attachment not signed: no signature is stored for this digest \\(key ${keys.pub.replace(/[.]/g, "\\.")}\\)\\)`),
    );
  });

  it("a forged lock attached to the genuinely signed image: verify-signature fails naming it, and rebuild refuses the image", async () => {
    const forged = await attachLock(repo, { mediaType: "application/vnd.oci.image.index.v1+json", digest: built.digest, size: 0 }, Buffer.from('{"forged":true}\n'), {
      image: "router",
      target: "image",
      platforms: ["linux/amd64"],
      revision: { commit: COMMIT, dirty: false, source: "https://evil.example/kiln" },
    });
    expectRefused(
      await kiln(["verify-signature", `${repository}@${built.digest}`], env),
      `kiln: signature check failed for the attachments of ${repository}@${built.digest}: the image is signed, but 1 of its 3 attachments are not covered by key ${keys.pub} (${LOCK} ${forged}: no signature is stored for this digest); covered: 2; do not trust the uncovered attachments (a lock or SBOM anyone could have attached); if kiln made them, sign the image again with \`kiln sign\``,
    );
    expectRefused(await kiln(["rebuild", `${repository}@${built.digest}`], env), new RegExp(`^kiln: ${repository.replace(/[.]/g, "\\.")}@${built.digest} has 2 lock attachments \\(.*\\), and kiln build attaches one`));
  });
});
