/**
 * Built from pinned source: the `sources` fixture locks GNU hello's Debian
 * source package (.dsc, orig, debian tarball, and its build-dependencies on
 * top of base:builder) and a Node program's npm tarball, cross-compiles hello
 * for amd64 and arm64 with --network=none, refuses tampered files before the
 * engine starts, and rebuilds offline to the same digest. Reuses the family's
 * store and cache (base:builder for the build platform, base:runtime).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadImage } from "../../src/definition/catalog.ts";
import { prepareNpm } from "../../src/lock/npm.ts";
import { lockSchema, type Lock } from "../../src/lock/schema.ts";
import { readLayer, squash } from "../../src/oci/layers.ts";
import { OciStore, type OciManifest } from "../../src/oci/store.ts";
import { loadSettings } from "../../src/settings/load.ts";
import { tempDir } from "../support/lock-fixtures.ts";
import { build as familyBuild, familyEnv } from "./base-family.ts";
import { kiln, REPO, runCommand } from "./helpers.ts";

/** ELF e_machine of the x86-64 and AArch64 architectures. */
const MACHINE: Record<string, number> = { "linux/amd64": 0x3e, "linux/arm64": 0xb7 };

describe("an image built from a Debian source package and an npm package-lock", () => {
  let env: NodeJS.ProcessEnv;
  let root: string;
  let lock: Lock;
  let first: { digest: string; manifests: Record<string, string> };
  const cacheFile = (hex: string, algorithm = "sha256") => path.join(env.KILN_CACHE_DIR!, "blobs", algorithm, hex);
  const buildSources = async (...flags: string[]) => {
    const r = await kiln(["build", "sources", "--progress", "quiet", "--json", ...flags], env);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    return JSON.parse(r.stdout) as { digest: string; manifests: Record<string, string> };
  };

  beforeAll(async () => {
    const family = familyEnv();
    // The builder for the build platform only (as CI builds it), the runtime for both.
    await familyBuild(family, "base:builder", ["--platform", "linux/amd64"]);
    await familyBuild(family, "base:runtime");
    // A catalog of its own: the family's base definitions and the fixture, in the family's store and cache.
    root = await tempDir("kiln-sources-");
    await fs.symlink(path.join(REPO, "src"), path.join(root, "src"));
    await fs.writeFile(path.join(root, "package.json"), '{ "type": "module" }\n');
    for (const name of ["debian", "base"]) await fs.cp(path.join(family.KILN_CATALOG!, "images", name), path.join(root, "images", name), { recursive: true });
    await fs.cp(path.join(REPO, "test/fixtures/images/sources"), path.join(root, "images/sources"), { recursive: true });
    env = { ...family, KILN_CATALOG: root };
    const locked = await kiln(["lock", "sources"], env);
    expect(locked.code, locked.stderr).toBe(0);
    lock = lockSchema.parse(JSON.parse(await fs.readFile(path.join(root, "images/sources/kiln.lock.json"), "utf8")));
  });

  it("pins the .dsc, every file it lists, the build-dependencies per build and target architecture, and the npm tarballs", async () => {
    const hello = lock.debianSource!.hello!;
    expect(hello.version).toBe("2.10-3");
    expect(hello.files.map((f) => f.name)).toEqual(["hello_2.10-3.dsc", "hello_2.10.orig.tar.gz", "hello_2.10.orig.tar.gz.asc", "hello_2.10-3.debian.tar.xz"]);
    expect(hello.files[0]!.sha256).toBe("75296f5ef618ae2f1849e22b142a2b5ab52c452ebefa4e7b0564c44617db3790");
    // The builder has the toolchains: what is added are hello's own build-dependencies (debhelper, help2man, texinfo).
    expect(Object.keys(hello.buildDepends)).toEqual(["amd64"]);
    for (const target of ["amd64", "arm64"]) expect(hello.buildDepends.amd64![target]!.map((d) => d.name)).toEqual(expect.arrayContaining(["debhelper", "help2man", "texinfo"]));
    expect(lock.npm!.app!.packages).toEqual([expect.objectContaining({ path: "node_modules/ms", version: "2.1.3", url: "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz" })]);
    const check = await kiln(["lock", "sources", "--check"], env);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  it("cross-compiles hello for amd64 and arm64 from the source package", async () => {
    first = await buildSources();
    const store = await OciStore.open(env.KILN_STORE!);
    for (const platform of ["linux/amd64", "linux/arm64"]) {
      const manifest = await store.readJson<OciManifest>(first.manifests[platform]!);
      const layers = [];
      for (const l of manifest.layers) layers.push(await readLayer(store, l, { keepContentBytes: 4 * 1024 * 1024, keepContentOf: (p) => p === "usr/bin/hello" }));
      const hello = squash(layers).get("usr/bin/hello");
      expect(hello?.content?.subarray(0, 4).toString("latin1"), platform).toBe("\x7fELF");
      expect(hello!.content!.readUInt16LE(18), platform).toBe(MACHINE[platform]);
    }
  });

  it("rebuilds offline from the content cache to the same digest", async () => {
    const again = await buildSources("--offline");
    expect(again.digest).toBe(first.digest);
  });

  it.each([
    ["the .dsc", 0],
    ["the orig tarball", 1],
  ] as const)("refuses a tampered %s before the engine starts, naming the file and both hashes", async (_what, index) => {
    const f = lock.debianSource!.hello!.files[index]!;
    const entry = cacheFile(f.sha256);
    const good = await fs.readFile(entry);
    await fs.writeFile(entry, Buffer.concat([good, Buffer.from("tampered")]));
    try {
      const r = await kiln(["build", "sources", "--progress", "plain", "--offline"], env);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(f.name);
      expect(r.stderr).toContain(`expected sha256 ${f.sha256}, got `);
      expect(r.stderr).toMatch(/got [0-9a-f]{64}/);
      expect(r.stderr).not.toMatch(/#\d+ \[/); // no engine step ran
    } finally {
      await fs.writeFile(entry, good);
    }
  });

  it("refuses a tampered npm tarball before the engine starts, naming it and both hashes", async () => {
    const pkg = lock.npm!.app!.packages[0]!;
    const entry = cacheFile(pkg.sha512, "sha512");
    const good = await fs.readFile(entry);
    await fs.writeFile(entry, Buffer.from("not ms"));
    try {
      const r = await kiln(["build", "sources", "--progress", "plain", "--offline"], env);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`npm app node_modules/ms@2.1.3 does not match the lock: expected sha512 ${pkg.sha512}, got `);
      expect(r.stderr).not.toMatch(/#\d+ \[/);
    } finally {
      await fs.writeFile(entry, good);
    }
  });

  it("the npm context installs with `npm ci --offline` and nothing else", async () => {
    const settings = await loadSettings({ env: { ...process.env, ...env, KILN_OFFLINE: "1" }, configPath: "/dev/null" });
    const image = await loadImage("sources", root);
    const work = await tempDir("kiln-sources-npm-");
    const contexts = await prepareNpm({ image, lock, settings, workDir: work });
    const dir = contexts["npm-app"]!;
    const r = await runCommand("npm", ["ci", "--offline", "--ignore-scripts", "--no-audit", "--cache", path.join(dir, "cache")], process.env, dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(dir, "node_modules/ms/package.json"), "utf8")).version).toBe("2.1.3");
  });
});
