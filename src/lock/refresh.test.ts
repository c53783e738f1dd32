import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileServer, LocalRepo, tempDir, writeDefinition } from "../../test/support/lock-fixtures.ts";
import { writeLayout } from "../../test/support/oci-layout.ts";
import { loadImage } from "../definition/catalog.ts";
import { OciStore } from "../oci/store.ts";
import { settingsSchema, type Settings } from "../settings/schema.ts";
import { hashBytes } from "../util/cas.ts";
import { lockBuildArgs } from "./build-args.ts";
import { checkLock } from "./check.ts";
import { renderChanges } from "./diff.ts";
import { readLock, writeLock, lockPathOf } from "./io.ts";
import { completeLock, refreshLock } from "./refresh.ts";

describe("lock, refresh and check", () => {
  let root: string;
  let repo: LocalRepo;
  let server: FileServer;
  let settings: Settings;
  let store: OciStore;
  let v1: string;
  let appDir: string;
  let baseDigest: string;

  const appDef = () => ({
    parents: { base: "base" },
    inputs: {
      git: { src: { url: repo.url, ref: "v1" } },
      downloads: {
        tool: { url: server.url("/tool-{arch}") },
        data: { url: server.url("/data.txt"), algorithm: "sha512" },
      },
    },
  });
  const putBase = async (content: string) => {
    const layout = await tempDir();
    await writeLayout(layout, { layers: [[{ path: "etc/base", content }]] });
    const img = await store.importLayout(layout, "base:image");
    await fs.rm(layout, { recursive: true, force: true });
    return img.digest;
  };

  beforeAll(async () => {
    root = await tempDir();
    repo = await LocalRepo.create(path.join(root, "upstream"));
    v1 = await repo.commit({ "main.c": "int main(){return 0;}\n" });
    repo.tag("v1");
    server = await new FileServer().start();
    server.files.set("/tool-amd64", Buffer.from("tool for amd64\n"));
    server.files.set("/tool-arm64", Buffer.from("tool for arm64\n"));
    server.files.set("/data.txt", Buffer.from("shared data\n"));
    settings = settingsSchema.parse({ store: path.join(root, "store"), cacheDir: path.join(root, "cache") });
    store = await OciStore.open(settings.store!);
    baseDigest = await putBase("one");
    await writeDefinition(root, "base", {});
    appDir = await writeDefinition(root, "app", appDef());
  });
  afterAll(async () => {
    await server.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it("an image without a lock has every declared input unpinned", async () => {
    const problems = await checkLock(await loadImage("app", root), undefined);
    expect(problems.map((p) => `${p.state} ${p.kind} ${p.name}`)).toEqual(["unpinned git src", "unpinned url tool", "unpinned url data", "unpinned image base"]);
  });

  it("locks every kind, and refreshing an unchanged world changes no byte", async () => {
    const image = await loadImage("app", root);
    const { lock, changes } = await completeLock(image, settings);
    expect(lock.git).toEqual({ src: { url: repo.url, ref: "v1", commit: v1 } });
    expect(lock.downloads!.tool).toEqual({
      "linux/amd64": { url: server.url("/tool-amd64"), sha256: hashBytes("tool for amd64\n") },
      "linux/arm64": { url: server.url("/tool-arm64"), sha256: hashBytes("tool for arm64\n") },
    });
    expect(lock.downloads!.data).toEqual({ any: { url: server.url("/data.txt"), sha512: hashBytes("shared data\n", "sha512") } });
    expect(lock.parents!.base!.index).toBe(baseDigest);
    expect(Object.keys(lock.parents!.base!.manifests)).toEqual(["linux/amd64"]);
    expect(changes.every((c) => c.action === "added")).toBe(true);
    await writeLock(appDir, lock);
    expect(await checkLock(image, lock, { store })).toEqual([]);

    const before = await fs.readFile(lockPathOf(appDir));
    const again = await refreshLock(image, settings);
    expect(again.changes).toEqual([]);
    await writeLock(appDir, again.lock);
    expect((await fs.readFile(lockPathOf(appDir))).equals(before)).toBe(true);
  });

  it("a moved tag changes nothing until refresh, which reports and pins the new commit", async () => {
    const image = await loadImage("app", root);
    const v2 = await repo.commit({ "main.c": "int main(){return 1;}\n" });
    repo.tag("v1");
    // `kiln lock` keeps pins that still fit the definition.
    expect((await completeLock(image, settings)).changes).toEqual([]);
    const { lock, changes } = await refreshLock(image, settings, { only: ["git"] });
    expect(renderChanges(changes)).toBe(`~ git src: v1 ${v1.slice(0, 7)} -> v1 ${v2.slice(0, 7)}`);
    expect(lock.git!.src!.commit).toBe(v2);
    expect(lock.downloads).toEqual((await readLock(appDir))!.downloads);
    await writeLock(appDir, lock);
  });

  it("reports changed bytes on the server, and a parent rebuilt with other content", async () => {
    const image = await loadImage("app", root);
    server.files.set("/tool-arm64", Buffer.from("tool for arm64, v2\n"));
    const newBase = await putBase("two");
    const lock = (await readLock(appDir))!;
    expect((await checkLock(image, lock, { store })).map((p) => p.message)).toEqual([`parent base (base): locked ${baseDigest}, the store now holds ${newBase}`]);
    const { changes } = await refreshLock(image, settings, { only: ["url", "image"] });
    expect(changes.map((c) => `${c.action} ${c.label}`)).toEqual(["changed download tool (linux/arm64)", "changed parent base"]);
    expect(renderChanges(changes)).toContain(`~ parent base: base sha256:${baseDigest.slice(7, 19)} -> base sha256:${newBase.slice(7, 19)}`);
  });

  it("check names declarations that changed or went away", async () => {
    const lock = (await readLock(appDir))!;
    await writeDefinition(root, "changed", { ...appDef(), parents: {}, inputs: { git: { src: { url: repo.url, ref: "main" } }, downloads: { data: appDef().inputs.downloads.data } } });
    const problems = await checkLock(await loadImage("changed", root), lock);
    expect(problems.map((p) => p.message)).toEqual([
      `git source src: ${repo.url} main declared, ${repo.url} v1 locked`,
      "download tool is locked but no longer declared",
      "parent base is locked but no longer declared",
    ]);
  });

  it("hands pins to Dockerfiles as build args", () => {
    const args = lockBuildArgs({
      lockVersion: 1,
      image: "app",
      git: { "caddy-src": { url: "u", ref: "v1", commit: v1 } },
      downloads: { tool: { "linux/arm64": { url: "a", sha256: "1".repeat(64) } }, data: { any: { url: "d", sha512: "2".repeat(128) } } },
      parents: { base: { ref: "base", index: baseDigest, manifests: {} } },
    });
    expect(args).toEqual({
      GIT_CADDY_SRC_URL: "u",
      GIT_CADDY_SRC_REF: "v1",
      GIT_CADDY_SRC_COMMIT: v1,
      DOWNLOAD_TOOL_ARM64_URL: "a",
      DOWNLOAD_TOOL_ARM64_SHA256: "1".repeat(64),
      DOWNLOAD_DATA_URL: "d",
      DOWNLOAD_DATA_SHA512: "2".repeat(128),
      PARENT_BASE_DIGEST: baseDigest,
    });
  });
});
