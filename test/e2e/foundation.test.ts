/**
 * The foundation, end to end on the real engine: a cross-compiled multi-stage
 * image for amd64 and arm64 from a rootfs made here, reproducible with
 * --no-cache, pushed with its digest preserved, loaded and run (arm64 under qemu),
 * with site secrets that never reach the image.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OciStore, type OciIndex, type OciManifest } from "../../src/oci/store.ts";
import { fixtureRootfs, kiln, mustRun, REPO, registryDigest, runCommand, tempEnv, writeCatalog } from "./helpers.ts";

const PROXY_PASSWORD = "s3cr3t-proxy-pw-4c1d";
const NETRC_PASSWORD = "s3cr3t-netrc-pw-9e7b";
const REGISTRY = "127.0.0.1:5000";
let dir: string;
let env: NodeJS.ProcessEnv;
const loadedTag = `kiln-e2e/hello:${process.pid}`;

beforeAll(async () => {
  ({ dir, env } = await tempEnv("foundation"));
  const rootfs = await fixtureRootfs(["gcc", "libc6-dev", "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross"]);
  const catalog = path.join(dir, "catalog");
  await writeCatalog(catalog, {
    "images/toolchain/image.ts": `import { defineImage } from "{{kiln}}";
export default defineImage({ name: "toolchain", category: "tooling", description: "gcc and an arm64 cross compiler", platforms: ["linux/amd64"], runtime: { tooling: true, healthcheck: false } });
`,
    "images/toolchain/Dockerfile": "FROM scratch\nADD rootfs.tar /\n",
    "images/hello/image.ts": `import { defineImage } from "{{kiln}}";
export default defineImage({ name: "hello", category: "experimental", description: "prints its machine", parents: { toolchain: "toolchain" }, secrets: ["apt.conf", "netrc"], outputs: { names: ["kiln-e2e/hello"], tags: ["1"] } });
`,
    "images/hello/Dockerfile": await fs.readFile(path.join(REPO, "test/fixtures/hello/Dockerfile"), "utf8"),
    "images/hello/hello.c": await fs.readFile(path.join(REPO, "test/fixtures/hello/hello.c"), "utf8"),
    "config.json": JSON.stringify({ apt: { proxy: `http://kiln:${PROXY_PASSWORD}@127.0.0.1:3142` }, credentials: { "git.home.arpa": { username: "kiln", password: NETRC_PASSWORD } } }),
  });
  await fs.link(rootfs, path.join(catalog, "images/toolchain/rootfs.tar")).catch(() => fs.copyFile(rootfs, path.join(catalog, "images/toolchain/rootfs.tar")));
  env = { ...env, KILN_CATALOG: catalog, KILN_CONFIG: path.join(catalog, "config.json") };
  const toolchain = await kiln(["build", "toolchain", "--progress", "plain"], env);
  expect(toolchain.stderr + toolchain.stdout).not.toMatch(/internal error/);
  expect(toolchain.code).toBe(0);
  // The parent is an input like any other: pinned by digest in the child's lock.
  const locked = await kiln(["lock", "hello"], env);
  expect(locked.stderr).toBe("");
  expect(locked.code).toBe(0);
  const lock = JSON.parse(await fs.readFile(path.join(catalog, "images/hello/kiln.lock.json"), "utf8"));
  expect(lock.parents.toolchain.index).toMatch(/^sha256:[0-9a-f]{64}$/);
});

afterAll(async () => {
  await runCommand("docker", ["rmi", "-f", loadedTag]);
  await fs.rm(dir, { recursive: true, force: true });
});

async function buildHello(extra: string[] = []): Promise<{ digest: string; manifests: Record<string, string>; loaded: string[]; pushed: { ref: string; digest: string }[] }> {
  const r = await kiln(["build", "hello", "--json", "--progress", "plain", ...extra], env);
  if (r.code !== 0) throw new Error(`kiln build failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("a cross-compiled multi-stage image", () => {
  let first: Awaited<ReturnType<typeof buildHello>>;

  it("builds bit for bit the same twice with --no-cache, for both platforms", async () => {
    first = await buildHello(["--no-cache"]);
    const second = await buildHello(["--no-cache"]);
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Object.keys(first.manifests).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    expect(second.digest).toBe(first.digest);
    expect(second.manifests).toEqual(first.manifests);
  });

  it("keeps every secret byte out of layers, config and history", async () => {
    const store = await OciStore.open(env.KILN_STORE!);
    const index = await store.readJson<OciIndex>(first.digest);
    let layersSeen = 0;
    for (const m of index.manifests) {
      const manifest = await store.readJson<OciManifest>(m.digest);
      const config = await fs.readFile(store.blobPath(manifest.config.digest), "utf8");
      expect(config).toContain("created");
      for (const needle of [PROXY_PASSWORD, NETRC_PASSWORD, "git.home.arpa"]) expect(config).not.toContain(needle);
      for (const layer of manifest.layers) {
        const bytes = gunzipSync(await fs.readFile(store.blobPath(layer.digest))).toString("latin1");
        layersSeen++;
        for (const needle of [PROXY_PASSWORD, NETRC_PASSWORD, "git.home.arpa"]) expect(bytes).not.toContain(needle);
      }
    }
    expect(layersSeen).toBeGreaterThan(0);
  });

  it("pushes exactly the stored digest to the registry", async () => {
    const r = await buildHello(["--push", "--registry", `${REGISTRY}/kiln-e2e`, "--tag", `push-${process.pid}`]);
    expect(r.digest).toBe(first.digest);
    expect(r.pushed).toEqual([{ ref: `${REGISTRY}/kiln-e2e/kiln-e2e/hello:push-${process.pid}`, digest: first.digest }]);
    expect(await registryDigest(REGISTRY, "kiln-e2e/kiln-e2e/hello", `push-${process.pid}`)).toBe(first.digest);
  });

  it("loads into the engine; each platform runs its own binary (arm64 under qemu)", async () => {
    const [name, tag] = loadedTag.split(":");
    const r = await buildHello(["--load", "--image", name!, "--tag", tag!]);
    expect(r.loaded).toEqual([loadedTag]);
    expect((await mustRun("docker", ["image", "inspect", loadedTag, "--format", "{{.Id}}"])).trim()).toBe(first.digest);
    expect((await mustRun("docker", ["run", "--rm", "--platform", "linux/arm64", loadedTag])).trim()).toBe("hello from aarch64");
    expect((await mustRun("docker", ["run", "--rm", "--platform", "linux/amd64", loadedTag])).trim()).toBe("hello from x86_64");
  });

  it("prints the same plan byte for byte, secrets redacted", async () => {
    const a = await kiln(["plan", "hello"], env);
    const b = await kiln(["plan", "hello"], env);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toContain("--secret id=netrc,src=<secrets>/netrc");
    expect(a.stdout).not.toContain(NETRC_PASSWORD);
    expect(a.stdout).not.toContain(PROXY_PASSWORD);
  });
});
