import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileServer, LocalRepo, makeSigningKey, tempDir, writeDefinition } from "../../test/support/lock-fixtures.ts";
import { loadImage, type LoadedImage } from "../definition/catalog.ts";
import type { KilnError } from "../errors.ts";
import { settingsSchema, type Settings } from "../settings/schema.ts";
import { hashBytes } from "../util/cas.ts";
import { writeLock } from "./io.ts";
import { prepareInputs } from "./prepare.ts";
import { completeLock } from "./refresh.ts";
import type { Lock } from "./schema.ts";

const PLATFORMS = ["linux/amd64", "linux/arm64"];

describe("preparing locked inputs as build contexts", () => {
  let root: string;
  let repo: LocalRepo;
  let server: FileServer;
  let settings: Settings;
  let image: LoadedImage;
  let lock: Lock;
  let v1: string;
  let key: Awaited<ReturnType<typeof makeSigningKey>>;
  let n = 0;
  const work = async () => {
    const dir = path.join(root, `work-${n++}`);
    await fs.mkdir(dir);
    return dir;
  };
  const cold = (): Settings => ({ ...settings, cacheDir: path.join(root, `cold-cache-${n++}`) });

  beforeAll(async () => {
    root = await tempDir();
    repo = await LocalRepo.create(path.join(root, "upstream"));
    v1 = await repo.commit({ "src/hello.txt": "hello v1\n" });
    repo.tag("v1");
    server = await new FileServer().start();
    key = await makeSigningKey();
    for (const arch of ["amd64", "arm64"]) {
      const file = path.join(root, `tool-${arch}`);
      await fs.writeFile(file, `tool ${arch}\n`);
      key.sign(file, `${file}.sig`);
      server.files.set(`/tool-${arch}`, await fs.readFile(file));
      server.files.set(`/tool-${arch}.sig`, await fs.readFile(`${file}.sig`));
    }
    server.files.set("/notes.txt", Buffer.from("notes\n"));
    settings = settingsSchema.parse({ store: path.join(root, "store"), cacheDir: path.join(root, "cache") });
    const dir = await writeDefinition(root, "app", {
      inputs: {
        git: { src: { url: repo.url, ref: "v1" } },
        downloads: {
          tool: { url: server.url("/tool-{arch}"), signature: { url: "{url}.sig", fingerprint: key.fingerprint } },
          "notes.txt": { url: server.url("/notes.txt") },
        },
      },
    });
    await fs.mkdir(path.join(dir, "keys"));
    await fs.writeFile(path.join(dir, "keys", `${key.fingerprint}.asc`), key.publicKey);
    image = await loadImage("app", root);
    lock = (await completeLock(image, settings)).lock;
    await writeLock(dir, lock);
  });
  afterAll(async () => {
    await server.stop();
    await key.cleanup();
    await fs.rm(root, { recursive: true, force: true });
  });

  it("locks the signature with its key", () => {
    expect(lock.downloads!.tool!["linux/arm64"]!.signature).toEqual({ url: server.url("/tool-arm64.sig"), fingerprint: key.fingerprint, sha256: hashBytes(server.files.get("/tool-arm64.sig")!) });
  });

  it("checks out the locked commit (even after the tag moved) and places verified downloads per architecture", async () => {
    await repo.commit({ "src/hello.txt": "hello v2\n" });
    repo.tag("v1");
    const workDir = await work();
    const out = await prepareInputs({ image, lock, settings, platforms: PLATFORMS, workDir });
    expect(out).toEqual({ contextDir: undefined, namedContexts: { "git-src": path.join(workDir, "git-src"), downloads: path.join(workDir, "downloads") } });
    expect(await fs.readFile(path.join(workDir, "git-src/src/hello.txt"), "utf8")).toBe("hello v1\n");
    await expect(fs.stat(path.join(workDir, "git-src/.git"))).rejects.toThrow();
    expect(await fs.readFile(path.join(workDir, "downloads/arm64/tool"), "utf8")).toBe("tool arm64\n");
    expect(await fs.readFile(path.join(workDir, "downloads/amd64/tool"), "utf8")).toBe("tool amd64\n");
    expect(await fs.readFile(path.join(workDir, "downloads/notes.txt"), "utf8")).toBe("notes\n");
    expect(await fs.readFile(path.join(workDir, "downloads/arm64/notes.txt"), "utf8")).toBe("notes\n");
    const st = await fs.stat(path.join(workDir, "git-src/src/hello.txt"));
    expect(st.mode & 0o777).toBe(0o644);
    // Fresh mtimes: BuildKit would not re-send a same-size file whose mtime it has seen.
    expect(Date.now() - st.mtimeMs).toBeLessThan(60_000);
  });

  it("prepares only the platforms asked for", async () => {
    const workDir = await work();
    await prepareInputs({ image, lock, settings, platforms: ["linux/amd64"], workDir });
    expect((await fs.readdir(path.join(workDir, "downloads"))).sort()).toEqual(["amd64", "notes.txt"]);
  });

  it("refuses an unpinned input before doing anything", async () => {
    const workDir = await work();
    const { git: _git, ...withoutGit } = lock;
    const err = (await prepareInputs({ image, lock: withoutGit, settings, platforms: PLATFORMS, workDir }).catch((e: unknown) => e)) as KilnError;
    expect(err.toLine()).toBe(`app: unpinned input: git source src (${repo.url} v1) is not pinned; run \`kiln refresh app\``);
    expect(await fs.readdir(workDir)).toEqual([]);
  });

  it("refuses a commit the repository does not have", async () => {
    const bad = "f".repeat(40);
    const edited = { ...lock, git: { src: { ...lock.git!.src!, commit: bad } } };
    await expect(prepareInputs({ image, lock: edited, settings, platforms: PLATFORMS, workDir: await work() })).rejects.toThrow(
      `git source src: locked commit ${bad} does not exist in ${repo.url}`,
    );
  });

  it("refuses bytes changed on the server, naming expected and actual", async () => {
    const original = server.files.get("/notes.txt")!;
    server.files.set("/notes.txt", Buffer.from("notes, edited upstream\n"));
    try {
      const err = await prepareInputs({ image, lock, settings: cold(), platforms: PLATFORMS, workDir: await work() }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe(`download notes.txt (any): ${server.url("/notes.txt")} has sha256 ${hashBytes("notes, edited upstream\n")}, the lock expects ${hashBytes("notes\n")}`);
    } finally {
      server.files.set("/notes.txt", original);
    }
  });

  it("refuses a signature that no longer verifies", async () => {
    const sig = server.files.get("/tool-amd64.sig")!;
    const edited: Lock = structuredClone(lock);
    edited.downloads!.tool!["linux/amd64"]!.signature!.url = server.url("/tool-arm64.sig");
    edited.downloads!.tool!["linux/amd64"]!.signature!.sha256 = lock.downloads!.tool!["linux/arm64"]!.signature!.sha256;
    await expect(prepareInputs({ image, lock: edited, settings, platforms: ["linux/amd64"], workDir: await work() })).rejects.toThrow(
      `download tool (linux/amd64): signature does not verify with key ${key.fingerprint}`,
    );
    expect(server.files.get("/tool-amd64.sig")).toBe(sig);
  });

  it("works offline from a warm cache and names the missing input on a cold one", async () => {
    await expect(prepareInputs({ image, lock, settings: { ...settings, offline: true }, platforms: PLATFORMS, workDir: await work() })).resolves.toBeDefined();
    await expect(prepareInputs({ image, lock, settings: { ...cold(), offline: true }, platforms: PLATFORMS, workDir: await work() })).rejects.toThrow(
      new RegExp(`^offline: git source src commit ${v1} \\(${repo.url}\\) is not in the cache`),
    );
  });
});
