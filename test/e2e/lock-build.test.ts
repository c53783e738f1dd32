/**
 * The fixture image that uses all four input kinds (test/fixtures/images/inputs-all)
 * built for amd64 and arm64 from its lock: reproducibly, only from locked
 * inputs, refused before the engine runs when an input no longer matches.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { squash, readLayer } from "../../src/oci/layers.ts";
import { OciStore, type OciManifest } from "../../src/oci/store.ts";
import { FileServer, LocalRepo, makeSigningKey, tempDir } from "../support/lock-fixtures.ts";
import { build as familyBuild, familyEnv } from "./base-family.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
const KILN = path.join(REPO, "bin/kiln");

describe("an image with every kind of locked input", () => {
  let root: string;
  let repo: LocalRepo;
  let server: FileServer;
  let key: Awaited<ReturnType<typeof makeSigningKey>>;
  let env: NodeJS.ProcessEnv;
  let v1: string;
  let first: { digest: string; manifests: Record<string, string> };

  const kiln = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const p = spawn(KILN, args, { env: { ...env, ...extraEnv } });
      let out = "";
      let err = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (err += d));
      p.on("close", (code) => resolve({ code, out, err }));
    });
  const build = async (...flags: string[]) => {
    const r = await kiln(["build", "inputs-all", "--progress", "quiet", "--json", ...flags]);
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out) as { digest: string; manifests: Record<string, string> };
  };
  /** The image's files for one platform, from the store. */
  const filesOf = async (manifestDigest: string) => {
    const store = await OciStore.open(env.KILN_STORE!);
    const manifest = await store.readJson<OciManifest>(manifestDigest);
    const layers = [];
    for (const l of manifest.layers) layers.push(await readLayer(store, l));
    return squash(layers);
  };
  const text = (files: Map<string, { content?: Buffer }>, p: string) => files.get(p)?.content?.toString();

  beforeAll(async () => {
    root = await tempDir("kiln-inputs-all-");
    // The catalog: the repository's debian image (the parent) and the fixture.
    await fs.symlink(path.join(REPO, "src"), path.join(root, "src"));
    await fs.writeFile(path.join(root, "package.json"), '{ "type": "module" }\n');
    await fs.cp(path.join(REPO, "images/debian"), path.join(root, "images/debian"), { recursive: true });
    await fs.cp(path.join(REPO, "test/fixtures/images/inputs-all"), path.join(root, "images/inputs-all"), { recursive: true });
    await fs.rm(path.join(root, "images/inputs-all/kiln.lock.json"), { force: true });

    repo = await LocalRepo.create(path.join(root, "upstream"));
    v1 = await repo.commit({ "README": "source v1\n" });
    repo.tag("v1");
    key = await makeSigningKey();
    await fs.mkdir(path.join(root, "images/inputs-all/keys"));
    await fs.writeFile(path.join(root, "images/inputs-all/keys", `${key.fingerprint}.asc`), key.publicKey);
    server = await new FileServer().start();
    for (const arch of ["amd64", "arm64"]) {
      const file = path.join(root, `tool-${arch}`);
      await fs.writeFile(file, `tool for ${arch}\n`);
      key.sign(file, `${file}.sig`);
      server.files.set(`/tool-${arch}`, await fs.readFile(file));
      server.files.set(`/tool-${arch}.sig`, await fs.readFile(`${file}.sig`));
    }
    server.files.set("/notes.txt", Buffer.from("release notes\n"));
    await fs.writeFile(path.join(root, "none.json"), "{}\n");
    env = {
      ...process.env,
      KILN_CATALOG: root,
      KILN_STORE: path.join(root, "store"),
      KILN_CACHE_DIR: path.join(root, "cache"),
      KILN_CONFIG: path.join(root, "none.json"),
      KILN_FIXTURE_HTTP: server.url("").replace(/\/$/, ""),
      KILN_FIXTURE_GIT_URL: repo.url,
      KILN_FIXTURE_FINGERPRINT: key.fingerprint,
    };
  });
  afterAll(async () => {
    await server?.stop();
    await key?.cleanup();
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it("locks all four kinds once the parent is built", async () => {
    // The parent from the family's download cache (hard links: content-addressed files, never
    // written in place), so its rootfs is not made a third time; what this test caches is its own.
    const family = familyEnv();
    await familyBuild(family, "debian");
    execFileSync("cp", ["-al", family.KILN_CACHE_DIR!, path.join(root, "cache")]);
    const parent = await kiln(["build", "debian", "--progress", "quiet"]);
    expect(parent.code, parent.err).toBe(0);
    const r = await kiln(["lock", "inputs-all"]);
    expect(r.code, r.err).toBe(0);
    const lock = JSON.parse(await fs.readFile(path.join(root, "images/inputs-all/kiln.lock.json"), "utf8"));
    expect(Object.keys(lock).sort()).toEqual(["debian", "downloads", "git", "image", "lockVersion", "parents"]);
    expect(lock.git.src.commit).toBe(v1);
    expect(Object.keys(lock.debian.packages).sort()).toEqual(["amd64", "arm64"]);
    expect(lock.debian.packages.arm64.map((p: { name: string }) => p.name)).toContain("hello");
    expect(lock.downloads.tool["linux/arm64"].signature.fingerprint).toBe(key.fingerprint);
    expect(Object.keys(lock.parents.debian.manifests).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    expect((await kiln(["lock", "--check", "inputs-all"])).code).toBe(0);
  });

  it("builds both platforms from the locked inputs, the same digest twice", async () => {
    first = await build();
    expect(Object.keys(first.manifests).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    for (const [platform, digest] of Object.entries(first.manifests)) {
      const arch = platform.split("/")[1];
      const files = await filesOf(digest);
      expect(text(files, "opt/src/README")).toBe("source v1\n");
      expect(files.has("opt/src/.git")).toBe(false);
      expect(text(files, "opt/tool")).toBe(`tool for ${arch}\n`);
      expect(text(files, "opt/notes.txt")).toBe("release notes\n");
      expect(files.get("usr/bin/hello")?.type).toBe("file");
    }
    const again = await build("--no-cache");
    expect(again.digest).toBe(first.digest);
  });

  it("keeps using the locked commit after the tag moves, until refresh", async () => {
    const v2 = await repo.commit({ "README": "source v2\n" });
    repo.tag("v1");
    expect((await build()).digest).toBe(first.digest);
    const r = await kiln(["refresh", "inputs-all", "--only", "git"]);
    expect(r.out).toBe(`inputs-all: updated\n  ~ git src: v1 ${v1.slice(0, 7)} -> v1 ${v2.slice(0, 7)}\n`);
    const moved = await build();
    expect(moved.digest).not.toBe(first.digest);
    expect(text(await filesOf(moved.manifests["linux/arm64"]!), "opt/src/README")).toBe("source v2\n");
  });

  it("refuses bytes changed on the server before the engine runs, storing nothing", async () => {
    const index = await fs.readFile(path.join(root, "store/index.json"));
    server.files.set("/notes.txt", Buffer.from("release notes, edited\n"));
    const r = await kiln(["build", "inputs-all", "--progress", "quiet"], { KILN_CACHE_DIR: path.join(root, "cold-cache") });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^kiln: download notes\.txt \(any\): http:\/\/127\.0\.0\.1:\d+\/notes\.txt has sha512 [0-9a-f]{128}, the lock expects [0-9a-f]{128}; the file changed on the server; check why, then run `kiln refresh inputs-all`\n$/);
    expect((await fs.readFile(path.join(root, "store/index.json"))).equals(index)).toBe(true);
    server.files.set("/notes.txt", Buffer.from("release notes\n"));
  });

  it("builds offline from the warm cache; a cold one names the missing input", async () => {
    const warm = await kiln(["build", "inputs-all", "--progress", "quiet", "--json", "--offline"]);
    expect(warm.code, warm.err).toBe(0);
    const cold = await kiln(["build", "inputs-all", "--progress", "quiet", "--offline"], { KILN_CACHE_DIR: path.join(root, "cold-offline") });
    expect(cold.code).toBe(1);
    expect(cold.err).toMatch(/^kiln: offline: git source src commit [0-9a-f]{40} \(file:\/\/.*\) is not in the cache/);
  });
});
