/**
 * The lock travels with the image: `kiln build` attaches it (an OCI 1.1
 * referrer) without changing the image, `--push` sends it to the real
 * docker-registry 2.8 on 127.0.0.1:5000 (no referrers API: the sha256-<hex>
 * fallback tag), and `kiln rebuild` of the pushed digest, from a fresh clone
 * of the catalog, says identical, or shows the diff when the revision changed.
 * The router's parents come by digest from the family store.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildBase, familyEnv, type Built } from "./base-family.ts";
import { kiln, mustRun, REPO } from "./helpers.ts";

const REGISTRY = "127.0.0.1:5000";
const family = familyEnv();
const when = "2025-01-01T00:00:00Z";
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "kiln", GIT_AUTHOR_EMAIL: "kiln@localhost", GIT_COMMITTER_NAME: "kiln", GIT_COMMITTER_EMAIL: "kiln@localhost", GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when };
const git = (cwd: string, args: string[]) => execFileSync("git", args, { cwd, env: gitEnv, encoding: "utf8" }).trim();
const INDEX = "application/vnd.oci.image.index.v1+json";
const LOCK = "application/vnd.kiln.lock.v1+json";

let catalog: string;
let env: NodeJS.ProcessEnv;
let repo: string;
let pushed: Built;

/** A clone of the family's catalog copy (with kiln's src beside it), every change committed: a revision anyone can check out. */
async function cloneCatalog(from: string, name: string): Promise<string> {
  const dir = path.join(path.dirname(family.KILN_STORE!), `${name}-${process.pid}`);
  await fs.rm(dir, { recursive: true, force: true });
  git(path.dirname(dir), ["clone", "-q", from, dir]);
  await fs.symlink(path.join(REPO, "src"), path.join(dir, "src"));
  return dir;
}

async function registryGet(p: string, accept: string): Promise<Response> {
  return fetch(`http://${REGISTRY}/v2/${p}`, { headers: { Accept: accept } });
}

beforeAll(async () => {
  await buildBase(family);
  catalog = await cloneCatalog(family.KILN_CATALOG!, "referrers-catalog");
  env = { ...family, KILN_CATALOG: catalog };
  // The router's parents pinned to what the family store holds, and committed: the build is of a clean revision.
  const pinned = await kiln(["refresh", "router", "--only", "image"], env);
  expect(pinned.code, pinned.stderr).toBe(0);
  if (git(catalog, ["status", "--porcelain", "images"])) git(catalog, ["commit", "-q", "-am", "pin the router's parents"]);
  repo = `kiln-referrers-${process.pid}`;
  const r = await kiln(["build", "router", "--push", "--registry", `${REGISTRY}/${repo}`, "--tag", "t", "--json", "--progress", "quiet"], env);
  expect(r.code, r.stderr.slice(-3000)).toBe(0);
  pushed = JSON.parse(r.stdout) as Built;
}, 1_200_000);

describe("lock attached as a referrer", () => {
  it("attaches the lock to the stored image without changing its digest", async () => {
    const entry = JSON.parse((await kiln(["referrers", "router", "--json"], env)).stdout) as { digest: string; artifactType: string; annotations: Record<string, string> }[];
    expect(entry).toHaveLength(1);
    expect(entry[0]!.artifactType).toBe(LOCK);
    expect(entry[0]!.annotations).toEqual({
      "dev.kiln.image": "router",
      "dev.kiln.target": "image",
      "dev.kiln.platforms": "linux/amd64,linux/arm64",
      "org.opencontainers.image.revision": git(catalog, ["rev-parse", "HEAD"]),
    });
    // The store still lists router:image at the digest the build reported, and the registry serves that same index.
    const status = await kiln(["referrers", pushed.digest, "--json"], env);
    expect(JSON.parse(status.stdout)).toEqual(entry);
    expect(pushed.pushed).toContainEqual({ ref: `${REGISTRY}/${repo}/kiln/router:t`, digest: pushed.digest });
  });

  it("pushes the lock to docker-registry 2.8 through the sha256-<hex> fallback tag", async () => {
    const name = `${repo}/kiln/router`;
    expect((await registryGet(`${name}/referrers/${pushed.digest}`, INDEX)).status).toBe(404);
    const tag = await registryGet(`${name}/manifests/${pushed.digest.replace(":", "-")}`, INDEX);
    expect(tag.status).toBe(200);
    const index = (await tag.json()) as { manifests: { digest: string; artifactType: string }[] };
    expect(index.manifests.map((m) => m.artifactType)).toEqual([LOCK]);
    const manifest = (await (await registryGet(`${name}/manifests/${index.manifests[0]!.digest}`, "application/vnd.oci.image.manifest.v1+json")).json()) as { subject: { digest: string }; layers: { digest: string }[] };
    expect(manifest.subject.digest).toBe(pushed.digest);
    const blob = Buffer.from(await (await registryGet(`${name}/blobs/${manifest.layers[0]!.digest}`, "*/*")).arrayBuffer());
    expect(blob.equals(await fs.readFile(path.join(catalog, "images", "router", "kiln.lock.json")))).toBe(true);
    const listed = await kiln(["referrers", `${REGISTRY}/${name}@${pushed.digest}`], env);
    expect(listed.stdout).toContain(`${index.manifests[0]!.digest} ${LOCK}`);
  });
});

describe("kiln rebuild", () => {
  it("rebuilds the pushed digest from a fresh clone: identical, parents from the local store", async () => {
    const r = await kiln(["rebuild", `${REGISTRY}/${repo}/kiln/router@${pushed.digest}`, "--catalog", catalog], family);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain(`identical: ${pushed.digest}`);
    expect(r.stdout).toMatch(/parent base:runtime sha256:[0-9a-f]{64} \(from the local store\)/);
    expect(r.stdout).not.toContain("rebuilt from the checkout");
    // The rebuild attaches the very same lock artifact: the build record has no timestamps.
    const attached = JSON.parse((await kiln(["referrers", "router", "--json"], env)).stdout) as { digest: string }[];
    expect(r.stdout).toContain(`lock attachment ${attached[0]!.digest} (attached again, the same)`);
  });

  it("shows the diff when a file of the revision changed", async () => {
    const changed = await cloneCatalog(catalog, "referrers-changed");
    await fs.appendFile(path.join(changed, "images", "router", "context", "entrypoint.sh"), "# changed\n");
    git(changed, ["commit", "-q", "-am", "change the router's entrypoint"]);
    const r = await kiln(["rebuild", `${REGISTRY}/${repo}/kiln/router@${pushed.digest}`, "--catalog", changed, "--revision", git(changed, ["rev-parse", "HEAD"])], family);
    expect(r.code, r.stderr.slice(-2000)).toBe(1);
    expect(r.stdout).toContain("different: rebuilt sha256:");
    expect(r.stdout).toContain("boot/entrypoint.sh");
  });

  it("says clearly what is wrong: revision not in the catalog, no attached lock, registry down", async () => {
    const other = path.join(path.dirname(family.KILN_STORE!), `referrers-other-${process.pid}`);
    await fs.rm(other, { recursive: true, force: true });
    await fs.mkdir(other);
    git(other, ["init", "-q"]);
    git(other, ["commit", "-q", "--allow-empty", "-m", "unrelated"]);
    const ref = `${REGISTRY}/${repo}/kiln/router@${pushed.digest}`;
    const missing = await kiln(["rebuild", ref, "--catalog", other], family);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/revision [0-9a-f]{40} is not in the catalog/);

    // The same image copied without its attachments.
    const bare = `${REGISTRY}/${repo}-bare/router`;
    await mustRun("skopeo", ["copy", "--quiet", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${ref}`, `docker://${bare}:t`]);
    const nolock = await kiln(["rebuild", `${bare}@${pushed.digest}`, "--catalog", catalog], family);
    expect(nolock.code).toBe(1);
    expect(nolock.stderr).toContain("has no attached lock");

    const down = await kiln(["rebuild", `127.0.0.1:1/router@${pushed.digest}`, "--catalog", catalog], family);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/the registry 127\.0\.0\.1:1 does not answer/);
    expect(down.stderr).not.toMatch(/\n\s+at /);
  });
});
