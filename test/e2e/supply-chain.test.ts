/**
 * The supply chain of a catalog image, end to end, on one build: `kiln build
 * router --push` (parents by digest from the family store, never rebuilt here)
 * stores the image, attaches its lock and its SBOMs (SPDX and CycloneDX per
 * platform) as OCI referrers of the image index, and pushes all of it to the
 * real docker-registry 2.8 on 127.0.0.1:5000 (no referrers API: the
 * sha256-<hex> fallback tag). On that one push: the SBOMs of debian,
 * base:runtime and router pass the official schemas and list every installed
 * package with its lock's sha256; the registry holds exactly what `kiln sbom`
 * prints; `kiln rebuild` of the pushed digest from a clone says identical, and
 * shows the diff when a file of the revision changed; `kiln sign` and
 * `kiln verify-signature` work, and a tampered manifest or signature fails.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDeb822 } from "../../src/debian/deb822.ts";
import { OciStore } from "../../src/oci/store.ts";
import { cyclonedxJson } from "../../src/sbom/cyclonedx.ts";
import { sbomSubject } from "../../src/sbom/index.ts";
import { spdxJson } from "../../src/sbom/spdx.ts";
import { cyclonedxErrors, spdxErrors } from "../support/sbom-schemas.ts";
import { buildBase, familyEnv, readImage, type Built } from "./base-family.ts";
import { kiln, mustRun, REPO, registryDigest, type CliResult } from "./helpers.ts";

const REGISTRY = "127.0.0.1:5000";
const PLATFORMS = ["linux/amd64", "linux/arm64"];
const INDEX = "application/vnd.oci.image.index.v1+json";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const LOCK = "application/vnd.kiln.lock.v1+json";
const SPDX = "application/spdx+json";
const CDX = "application/vnd.cyclonedx+json";
const FORMAT_OF: Record<string, string> = { [SPDX]: "spdx", [CDX]: "cyclonedx" };

const family = familyEnv();
const when = "2025-01-01T00:00:00Z";
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "kiln", GIT_AUTHOR_EMAIL: "kiln@localhost", GIT_COMMITTER_NAME: "kiln", GIT_COMMITTER_EMAIL: "kiln@localhost", GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when };
const git = (cwd: string, args: string[]) => execFileSync("git", args, { cwd, env: gitEnv, encoding: "utf8" }).trim();

let work: string;
let catalog: string;
let env: NodeJS.ProcessEnv;
let namespace: string;
let repository: string;
let pushed: Built & { attached: { digest: string; artifactType: string; platform?: string }[] };
let pushedRef: string;

/** A clone of `from` (with kiln's src beside its images, as the family's catalog copy has): a revision anyone can check out. */
async function cloneCatalog(from: string, name: string): Promise<string> {
  const dir = path.join(work, name);
  git(work, ["clone", "-q", from, dir]);
  await fs.symlink(path.join(REPO, "src"), path.join(dir, "src"));
  return dir;
}

const registryGet = (p: string, accept: string) => fetch(`http://${REGISTRY}/v2/${p}`, { headers: { Accept: accept } });

beforeAll(async () => {
  await buildBase(family);
  work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-supply-chain-"));
  catalog = await cloneCatalog(family.KILN_CATALOG!, "catalog");
  env = { ...family, KILN_CATALOG: catalog };
  // The router's parents pinned to what the family store holds, and committed: the build is of a clean revision.
  const pinned = await kiln(["refresh", "router", "--only", "image"], env);
  expect(pinned.code, pinned.stderr).toBe(0);
  if (git(catalog, ["status", "--porcelain", "images"])) git(catalog, ["commit", "-q", "-am", "pin the router's parents"]);
  namespace = `kiln-supply-chain-${process.pid}`;
  repository = `${REGISTRY}/${namespace}/kiln/router`;
  const r = await kiln(["build", "router", "--push", "--registry", `${REGISTRY}/${namespace}`, "--tag", "t", "--json", "--progress", "quiet"], env);
  expect(r.code, r.stderr.slice(-3000)).toBe(0);
  pushed = JSON.parse(r.stdout) as typeof pushed;
  pushedRef = `${repository}@${pushed.digest}`;
}, 1_200_000);

afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

/** name/version/arch -> sha256 over the locks of the image and its ancestors, as the catalog holds them. */
function lockedSha256(images: string[], arch: string): Map<string, string> {
  const pins = new Map<string, string>();
  for (const name of images) {
    const lock = JSON.parse(readFileSync(path.join(catalog, "images", name, "kiln.lock.json"), "utf8"));
    for (const p of lock.debian?.packages?.[arch] ?? []) pins.set(`${p.name} ${p.version} ${p.architecture}`, p.sha256);
  }
  return pins;
}

const CHAIN: Record<string, string[]> = { debian: ["debian"], "base:runtime": ["base", "debian"], router: ["router", "base", "debian"] };

/** What the image says it holds, read here with another reader: dpkg's status, else deb-install's manifests. */
async function installed(digest: string, platform: string): Promise<string[]> {
  const image = await readImage(env, digest, platform);
  const status = await image.read("var/lib/dpkg/status");
  if (status) {
    return parseDeb822(status.toString("utf8"))
      .filter((p) => p.Status === "install ok installed")
      .map((p) => `${p.Package} ${p.Version} ${p.Architecture}`);
  }
  const lines: string[] = [];
  for (const name of image.files.keys()) {
    if (!/^usr\/share\/kiln\/packages\/.*\.tsv$/.test(name)) continue;
    for (const line of (await image.read(name))!.toString("utf8").split("\n")) if (line && !line.startsWith("#")) lines.push(line.split("\t").slice(0, 3).join(" "));
  }
  return lines;
}

/** `kiln sbom` through the CLI, into a file: its bytes. */
async function sbomCli(ref: string, platform: string, format: string): Promise<Buffer> {
  const file = path.join(work, `${ref.replace(":", "-")}-${platform.replace("/", "-")}.${format}.json`);
  const r = await kiln(["sbom", ref, "--platform", platform, "--format", format, "--out", file], env);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return readFileSync(file);
}

describe.each(["debian", "base:runtime", "router"])("kiln sbom %s", (ref) => {
  it.each(PLATFORMS)("%s: both formats pass the official schemas and list every installed package with the lock's sha256", async (platform) => {
    const arch = platform.split("/")[1]!;
    // In process (the library the CLI and the build's attachments use): one read of the image for both formats.
    const subject = await sbomSubject(await OciStore.open(env.KILN_STORE!), ref, platform, catalog);
    const spdx = spdxJson(subject);
    const cdx = cyclonedxJson(subject);
    expect(spdxErrors(spdx.toString())).toEqual([]);
    expect(await cyclonedxErrors(cdx.toString())).toEqual([]);

    const pins = lockedSha256(CHAIN[ref]!, arch);
    const held = await installed(subject.digest, platform);
    expect(held.length).toBeGreaterThan(ref === "debian" ? 80 : 8);
    const doc = JSON.parse(spdx.toString());
    const bom = JSON.parse(cdx.toString());
    const spdxDebs = new Map<string, string>();
    for (const p of doc.packages.filter((p: { SPDXID: string }) => p.SPDXID.startsWith("SPDXRef-deb-"))) {
      const purl = p.externalRefs[0].referenceLocator as string;
      spdxDebs.set(`${p.name} ${p.versionInfo} ${/arch=([^&]+)/.exec(purl)![1]}`, p.checksums[0].checksumValue);
    }
    const cdxDebs = new Map<string, string>();
    for (const c of bom.components.filter((c: { purl?: string }) => c.purl?.startsWith("pkg:deb/debian/"))) {
      const a = c.properties.find((p: { name: string }) => p.name === "kiln:debian:architecture").value;
      cdxDebs.set(`${c.name} ${c.version} ${a}`, c.hashes[0].content);
    }
    for (const key of held) {
      expect(pins.get(key), `${key} is pinned by a lock`).toMatch(/^[0-9a-f]{64}$/);
      expect(spdxDebs.get(key), `${key} in the SPDX document`).toBe(pins.get(key));
      expect(cdxDebs.get(key), `${key} in the CycloneDX BOM`).toBe(pins.get(key));
    }
    expect(spdxDebs.size).toBe(new Set(held).size);
    expect(cdxDebs.size).toBe(new Set(held).size);
    const index = await (await OciStore.open(env.KILN_STORE!)).require(subject.digest);
    expect(doc.packages.find((p: { SPDXID: string }) => p.SPDXID === "SPDXRef-Image").versionInfo).toBe(index.manifests[platform]!.digest);
  });
});

describe("kiln sbom", () => {
  it("names the parent the router is built on and the build stages by digest", async () => {
    const doc = JSON.parse((await sbomCli("router", "linux/arm64", "spdx")).toString());
    const runtime = doc.packages.find((p: { SPDXID: string }) => p.SPDXID === "SPDXRef-parent-base-runtime");
    const lock = JSON.parse(readFileSync(path.join(catalog, "images", "router", "kiln.lock.json"), "utf8"));
    expect(runtime.versionInfo).toBe(lock.parents["base-runtime"].manifests["linux/arm64"]);
    expect(runtime.versionInfo).toMatch(/^sha256:[0-9a-f]{64}$/);
    const rel = (id: string) => doc.relationships.find((r: { spdxElementId: string; relatedSpdxElement: string }) => r.spdxElementId === id || r.relatedSpdxElement === id).relationshipType;
    expect(rel("SPDXRef-parent-base-runtime")).toBe("DESCENDANT_OF");
    expect(rel("SPDXRef-parent-base-builder")).toBe("BUILD_DEPENDENCY_OF");
  });

  it("says in one line what is wrong with an unknown image, a missing platform or an image not built, and writes nothing", async () => {
    const emptyStore = path.join(work, "empty-store");
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [["sbom", "nosuchimage"], env, /^kiln: unknown image "nosuchimage"/],
      [["sbom", "base:builder", "--platform", "linux/arm64"], env, /^kiln: image base:builder in the store has no linux\/arm64 \(it holds linux\/amd64\); build it for that platform: kiln build base:builder --platform linux\/arm64$/],
      [["sbom", "router", "--platform", "linux/amd64"], { ...env, KILN_STORE: emptyStore }, /^kiln: image router:image is not in the local store \(.*\); build it first: kiln build router:image$/],
      [["sbom", "router"], env, /^kiln: image router holds 2 platforms \(linux\/amd64, linux\/arm64\); choose one/],
    ];
    for (const [args, e, message] of cases) {
      const file = path.join(work, "never.json");
      const r = await kiln([...args, "--out", file], e);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
      expect(existsSync(file)).toBe(false);
    }
  });
});

describe("attachments: the lock and the SBOMs travel with the image", () => {
  it("the build attaches the lock and an SPDX and a CycloneDX SBOM per platform to the stored index, its digest unchanged", async () => {
    const kinds = pushed.attached.map((a) => `${a.artifactType} ${a.platform ?? ""}`.trim()).sort();
    expect(kinds).toEqual([`${SPDX} linux/amd64`, `${SPDX} linux/arm64`, LOCK, `${CDX} linux/amd64`, `${CDX} linux/arm64`].sort());
    const stored = JSON.parse((await kiln(["referrers", pushed.digest, "--json"], env)).stdout) as { digest: string; artifactType: string; annotations: Record<string, string> }[];
    expect(stored.map((r) => r.digest).sort()).toEqual(pushed.attached.map((a) => a.digest).sort());
    const lock = stored.find((r) => r.artifactType === LOCK)!;
    expect(lock.annotations).toEqual({
      "dev.kiln.image": "router",
      "dev.kiln.target": "image",
      "dev.kiln.platforms": "linux/amd64,linux/arm64",
      "org.opencontainers.image.revision": git(catalog, ["rev-parse", "HEAD"]),
    });
    // The store still lists router:image at the digest the build reported, and the registry serves that very index.
    expect((await (await OciStore.open(env.KILN_STORE!)).require("router:image")).digest).toBe(pushed.digest);
    expect(pushed.pushed).toEqual([{ ref: `${repository}:t`, digest: pushed.digest }]);
    expect(await registryDigest(REGISTRY, `${namespace}/kiln/router`, "t")).toBe(pushed.digest);
  });

  it("the registry holds them as referrers through the sha256-<hex> fallback tag: each SBOM is byte for byte what kiln sbom prints", async () => {
    const name = `${namespace}/kiln/router`;
    expect((await registryGet(`${name}/referrers/${pushed.digest}`, INDEX)).status).toBe(404);
    const tag = await registryGet(`${name}/manifests/${pushed.digest.replace(":", "-")}`, INDEX);
    expect(tag.status).toBe(200);
    const index = (await tag.json()) as { manifests: { digest: string; artifactType: string; annotations?: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.digest).sort()).toEqual(pushed.attached.map((a) => a.digest).sort());
    for (const entry of index.manifests) {
      const manifest = (await (await registryGet(`${name}/manifests/${entry.digest}`, MANIFEST)).json()) as { artifactType: string; subject: { digest: string; mediaType: string }; layers: { digest: string; mediaType: string }[] };
      expect(manifest.subject).toMatchObject({ digest: pushed.digest, mediaType: INDEX });
      expect(manifest.artifactType).toBe(entry.artifactType);
      const blob = Buffer.from(await (await registryGet(`${name}/blobs/${manifest.layers[0]!.digest}`, "*/*")).arrayBuffer());
      if (entry.artifactType === LOCK) {
        expect(blob.equals(readFileSync(path.join(catalog, "images", "router", "kiln.lock.json")))).toBe(true);
        continue;
      }
      const platform = entry.annotations!["dev.kiln.platform"]!;
      expect(blob.equals(await sbomCli("router", platform, FORMAT_OF[entry.artifactType]!)), `${entry.artifactType} ${platform}`).toBe(true);
    }
    // The same list through oras (kiln referrers on the registry reference).
    const listed = JSON.parse((await kiln(["referrers", pushedRef, "--json"], env)).stdout) as { digest: string }[];
    expect(listed.map((l) => l.digest).sort()).toEqual(pushed.attached.map((a) => a.digest).sort());
  });
});

describe("kiln rebuild", () => {
  it("rebuilds the pushed digest from a clone: identical, parents from the local store, the same attachments", async () => {
    const r = await kiln(["rebuild", pushedRef, "--catalog", catalog], family);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain(`identical: ${pushed.digest}`);
    expect(r.stdout).toMatch(/parent base:runtime sha256:[0-9a-f]{64} \(from the local store\)/);
    expect(r.stdout).not.toContain("rebuilt from the checkout");
    const lock = pushed.attached.find((a) => a.artifactType === LOCK)!;
    expect(r.stdout).toContain(`lock attachment ${lock.digest} (attached again, the same)`);
    expect(r.stdout).toContain(`4 other attachments (${SPDX}, ${CDX}) attached again, the same`);
    expect(r.stdout).not.toContain("the rebuild attached another");
  });

  it("shows the diff when a file of the revision changed", async () => {
    const changed = await cloneCatalog(catalog, "changed");
    await fs.appendFile(path.join(changed, "images", "router", "context", "entrypoint.sh"), "# changed\n");
    git(changed, ["commit", "-q", "-am", "change the router's entrypoint"]);
    const r = await kiln(["rebuild", pushedRef, "--catalog", changed, "--revision", git(changed, ["rev-parse", "HEAD"])], family);
    expect(r.code, r.stderr.slice(-2000)).toBe(1);
    expect(r.stdout).toContain("different: rebuilt sha256:");
    expect(r.stdout).toContain("boot/entrypoint.sh");
  });

  it("says clearly what is wrong: revision not in the catalog, no attached lock, registry down", async () => {
    const other = path.join(work, "other");
    await fs.mkdir(other);
    git(other, ["init", "-q"]);
    git(other, ["commit", "-q", "--allow-empty", "-m", "unrelated"]);
    const missing = await kiln(["rebuild", pushedRef, "--catalog", other], family);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/revision [0-9a-f]{40} is not in the catalog/);

    // The same image copied without its attachments.
    const bare = `${REGISTRY}/${namespace}-bare/router`;
    await mustRun("skopeo", ["copy", "--quiet", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${pushedRef}`, `docker://${bare}:t`]);
    const nolock = await kiln(["rebuild", `${bare}@${pushed.digest}`, "--catalog", catalog], family);
    expect(nolock.code).toBe(1);
    expect(nolock.stderr).toContain("has no attached lock");

    const down = await kiln(["rebuild", `127.0.0.1:1/router@${pushed.digest}`, "--catalog", catalog], family);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/the registry 127\.0\.0\.1:1 does not answer/);
    expect(down.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("kiln sign and kiln verify-signature on the pushed router", () => {
  /** What kiln prints after a failed signature check. */
  const DO_NOT_RUN = "; do not run this image; if it was pushed again on purpose, sign the new digest with `kiln sign`\n";
  const sigTag = (digest: string) => `${digest.replace(":", "-")}.sig`;
  let keys: { key: string; pub: string; otherKey: string; otherPub: string };
  let signEnv: NodeJS.ProcessEnv;
  let tagRef: string;

  /** A cosign key pair; the password reaches cosign in its own environment only. */
  const keyPair = (prefix: string, password: string) => mustRun("cosign", ["generate-key-pair", "--output-key-prefix", path.join(work, prefix)], { ...process.env, COSIGN_PASSWORD: password });

  const expectFailure = (r: CliResult, line: string) => {
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(line);
    expect(r.code).toBe(1);
  };

  /** The stored signature manifest of a digest, as the registry serves it. */
  async function signatureManifest(digest: string): Promise<{ layers: { annotations: Record<string, string> }[]; mediaType: string }> {
    const res = await registryGet(`${namespace}/kiln/router/manifests/${sigTag(digest)}`, MANIFEST);
    expect(res.status).toBe(200);
    return (await res.json()) as { layers: { annotations: Record<string, string> }[]; mediaType: string };
  }

  beforeAll(async () => {
    await keyPair("site", "site password");
    await keyPair("other", "other password");
    keys = { key: path.join(work, "site.key"), pub: path.join(work, "site.pub"), otherKey: path.join(work, "other.key"), otherPub: path.join(work, "other.pub") };
    // The password file ends with a line break, as an editor writes it.
    await fs.writeFile(path.join(work, "site.password"), "site password\n", { mode: 0o600 });
    const config = path.join(work, "config.yaml");
    await fs.writeFile(config, "signing:\n  key: site.key\n  passwordFile: site.password\n  publicKey: site.pub\n");
    signEnv = { ...env, KILN_CONFIG: config };
    tagRef = `${repository}:t`;
  });

  /** The attachment lines kiln prints, one per attachment of the build, each ending with `what`. */
  const attachmentLines = (what: string) =>
    pushed.attached
      .map((a) => `  attachment ${a.artifactType}${a.platform ? ` (${a.platform})` : ""} ${a.digest}: ${what}`)
      .sort((a, b) => a.slice(a.indexOf("sha256:")).localeCompare(b.slice(b.indexOf("sha256:"))));

  it("an unsigned digest fails; signed by tag (with its five attachments), it verifies by tag and by digest, and not with another key", async () => {
    expectFailure(await kiln(["verify-signature", tagRef], signEnv), `kiln: signature check failed for ${pushedRef} (tag t): no signature is stored for this digest; key ${keys.pub}${DO_NOT_RUN}`);
    const signed = await kiln(["sign", tagRef], signEnv);
    expect(signed.stderr).toBe("");
    expect(signed.stdout).toBe([`signed ${pushedRef} with key ${keys.key}`, `signature: ${repository}:${sigTag(pushed.digest)}`, ...attachmentLines("signed"), ""].join("\n"));
    for (const a of pushed.attached) expect(await registryDigest(REGISTRY, `${namespace}/kiln/router`, sigTag(a.digest)), a.artifactType).toBeDefined();
    const byTag = await kiln(["verify-signature", tagRef], signEnv);
    expect(byTag.stderr).toBe("");
    expect(byTag.stdout).toBe([`verified ${pushedRef}: signed with key ${keys.pub} (1 signature)`, ...attachmentLines("covered"), ""].join("\n"));
    const byDigest = await kiln(["verify-signature", pushedRef, "--json"], signEnv);
    expect(byDigest.code, byDigest.stderr).toBe(0);
    const json = JSON.parse(byDigest.stdout) as { attachments: { digest: string; covered: boolean; signatures: number }[] };
    expect(json).toMatchObject({ ref: pushedRef, digest: pushed.digest, signed: pushedRef, key: keys.pub, signatureTag: `${repository}:${sigTag(pushed.digest)}`, signatures: 1 });
    expect(json.attachments.map((a) => [a.digest, a.covered, a.signatures])).toEqual(pushed.attached.map((a) => [a.digest, true, 1]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
    const otherKey = await kiln(["verify-signature", tagRef, "--set", `signing.publicKey=${keys.otherPub}`], signEnv);
    expect(otherKey.code).toBe(1);
    expect(otherKey.stderr).toContain(`no stored signature verifies with this key (signed with another key, or altered); key ${keys.otherPub}`);
  });

  it("a tampered manifest under the tag fails verification, naming the digest the registry now serves", async () => {
    const original = Buffer.from(await (await registryGet(`${namespace}/kiln/router/manifests/t`, INDEX)).arrayBuffer());
    const index = JSON.parse(original.toString("utf8")) as { annotations?: Record<string, string> };
    index.annotations = { ...index.annotations, "org.opencontainers.image.description": "tampered" };
    const put = await fetch(`http://${REGISTRY}/v2/${namespace}/kiln/router/manifests/t`, { method: "PUT", headers: { "Content-Type": INDEX }, body: JSON.stringify(index) });
    expect(put.status).toBe(201);
    const tampered = await registryDigest(REGISTRY, `${namespace}/kiln/router`, "t");
    expect(tampered).not.toBe(pushed.digest);
    expectFailure(await kiln(["verify-signature", tagRef], signEnv), `kiln: signature check failed for ${repository}@${tampered} (tag t): no signature is stored for this digest; key ${keys.pub}${DO_NOT_RUN}`);
    // The signed digest itself still verifies.
    expect((await kiln(["verify-signature", pushedRef], signEnv)).code).toBe(0);
  });

  it("a signature replaced by one made with another key fails", async () => {
    // The other key signs the same digest elsewhere; its signature is copied over the site's.
    const scratch = `${REGISTRY}/${namespace}/scratch`;
    await mustRun("cosign", ["sign", "--key", keys.otherKey, "--tlog-upload=false", "--yes", pushedRef], { ...process.env, COSIGN_PASSWORD: "other password", COSIGN_REPOSITORY: scratch });
    await mustRun("skopeo", ["copy", "--quiet", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${scratch}:${sigTag(pushed.digest)}`, `docker://${repository}:${sigTag(pushed.digest)}`]);
    expectFailure(await kiln(["verify-signature", pushedRef], signEnv), `kiln: signature check failed for ${pushedRef}: no stored signature verifies with this key (signed with another key, or altered); key ${keys.pub}${DO_NOT_RUN}`);
    // It is a real signature of the image, by the other key, which signed none of the attachments.
    const other = await kiln(["verify-signature", pushedRef, "--set", `signing.publicKey=${keys.otherPub}`], signEnv);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`the image is signed, but 5 of its 5 attachments are not covered by key ${keys.otherPub}`);
  });

  it("a stored signature altered by one bit fails", async () => {
    // Signed again: the site's signature is back beside the other key's.
    expect((await kiln(["sign", pushedRef], signEnv)).code).toBe(0);
    expect((await kiln(["verify-signature", pushedRef], signEnv)).code).toBe(0);
    const manifest = await signatureManifest(pushed.digest);
    expect(manifest.layers.length).toBe(2);
    for (const layer of manifest.layers) {
      const sig = Buffer.from(layer.annotations["dev.cosignproject.cosign/signature"]!, "base64");
      sig[sig.length - 1]! ^= 0x01;
      layer.annotations["dev.cosignproject.cosign/signature"] = sig.toString("base64");
    }
    const put = await fetch(`http://${REGISTRY}/v2/${namespace}/kiln/router/manifests/${sigTag(pushed.digest)}`, { method: "PUT", headers: { "Content-Type": manifest.mediaType }, body: JSON.stringify(manifest) });
    expect(put.status).toBe(201);
    expectFailure(await kiln(["verify-signature", pushedRef], signEnv), `kiln: signature check failed for ${pushedRef}: no stored signature verifies with this key (signed with another key, or altered); key ${keys.pub}${DO_NOT_RUN}`);
  });

  it("a missing key, a catalog ref, a moved tag or a wrong password: one line each, and nothing signed", async () => {
    const empty = path.join(work, "empty.json");
    await fs.writeFile(empty, "{}\n");
    const noKey = await kiln(["sign", tagRef], { ...signEnv, KILN_CONFIG: empty });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/^kiln: no signing key: signing.key is not set in the site settings; create one with `cosign generate-key-pair`.*\n$/);
    const noPub = await kiln(["verify-signature", tagRef], { ...signEnv, KILN_CONFIG: empty });
    expect(noPub.stderr).toMatch(/^kiln: no key to verify with: signing.publicKey is not set in the site settings; .*\n$/);
    const catalogRef = await kiln(["sign", "router:image"], signEnv);
    expect(catalogRef.code).toBe(1);
    expect(catalogRef.stderr).toMatch(/^kiln: router:image is not a pushed image reference: it names no registry; push it first/);
    // The tag now names the tampered index, not what kiln built: it is not signed.
    const tampered = (await registryDigest(REGISTRY, `${namespace}/kiln/router`, "t"))!;
    expectFailure(
      await kiln(["sign", tagRef], signEnv),
      `kiln: tag t of ${repository} resolves to ${tampered}, but kiln built and stored ${pushed.digest} for router:image; nothing was signed; the tag was moved since the push, or the store holds a newer build: push what you mean to sign again, or sign it by digest (${pushedRef})\n`,
    );
    expect(await registryDigest(REGISTRY, `${namespace}/kiln/router`, sigTag(tampered))).toBeUndefined();
    // A wrong password signs nothing: its first attachment fails.
    const wrongPassword = await kiln(["sign", pushedRef, "--set", `signing.passwordFile=${keys.pub}`], signEnv);
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr).toMatch(
      new RegExp(`^kiln: signing ${repository.replace(/[.]/g, "\\.")}@sha256:[0-9a-f]{64} with key ${keys.key.replace(/[.]/g, "\\.")} failed: cannot decrypt the key with the password from signing.passwordFile \\(wrong password, or the file is not set\\); nothing was signed\n$`),
    );
  });
});
