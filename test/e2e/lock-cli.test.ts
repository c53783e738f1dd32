/** `kiln lock`, `kiln lock --check` and `kiln refresh` as a user runs them, against a local git repository, HTTP server and store. */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OciStore } from "../../src/oci/store.ts";
import { hashBytes } from "../../src/util/cas.ts";
import { FileServer, LocalRepo, tempDir, writeDefinition } from "../support/lock-fixtures.ts";
import { writeLayout } from "../support/oci-layout.ts";

const KILN = path.resolve(import.meta.dirname, "../../bin/kiln");

describe("kiln lock / refresh", () => {
  let root: string;
  let repo: LocalRepo;
  let server: FileServer;
  let env: NodeJS.ProcessEnv;
  let v1: string;
  /** Asynchronous on purpose: the HTTP server the child fetches from runs in this process. */
  const kiln = (...args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const p = spawn(KILN, args, { env });
      let out = "";
      let err = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (err += d));
      p.on("close", (code) => resolve({ code, out, err }));
    });
  const lockFile = () => path.join(root, "images/app/kiln.lock.json");

  beforeAll(async () => {
    root = await tempDir("kiln-lock-cli-");
    repo = await LocalRepo.create(path.join(root, "upstream"));
    v1 = await repo.commit({ "README": "v1\n" });
    repo.tag("v1");
    server = await new FileServer().start();
    server.files.set("/tool.tar.gz", Buffer.from("tool bytes\n"));
    env = { ...process.env, KILN_CATALOG: root, KILN_STORE: path.join(root, "store"), KILN_CACHE_DIR: path.join(root, "cache"), KILN_CONFIG: path.join(root, "none.json") };
    await fs.writeFile(path.join(root, "none.json"), "{}\n");
    const store = await OciStore.open(env.KILN_STORE!);
    const layout = path.join(root, "layout");
    await writeLayout(layout, { layers: [[{ path: "etc/base", content: "base\n" }]] });
    await store.importLayout(layout, "base:image");
    await writeDefinition(root, "base", {});
    await writeDefinition(root, "app", {
      parents: { base: "base" },
      inputs: { git: { src: { url: repo.url, ref: "v1" } }, downloads: { tool: { url: server.url("/tool.tar.gz") } } },
    });
  });
  afterAll(async () => {
    await server.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it("--check fails on an unlocked image, naming each input and the fix", async () => {
    const r = await kiln("lock", "--check", "--all");
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      [`app: unpinned: git source src (${repo.url} v1) is not pinned`, "app: unpinned: download tool is not pinned", "app: unpinned: parent base (base) is not pinned", ""].join("\n"),
    );
    expect(r.err).toBe("kiln: 1 of 1 lock is not current (app); run `kiln refresh app`\n");
  });

  it("lock pins everything; --check then passes; refresh of an unchanged world keeps every byte", async () => {
    const r = await kiln("lock", "app");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`+ git src: v1 ${v1.slice(0, 7)}`);
    expect(r.out).toContain(`+ download tool (any): ${server.url("/tool.tar.gz")} sha256 ${hashBytes("tool bytes\n").slice(0, 12)}`);
    expect(await kiln("lock", "--check", "app")).toEqual({ code: 0, out: "1 lock current\n", err: "" });
    const before = await fs.readFile(lockFile());
    const mtime = (await fs.stat(lockFile())).mtimeMs;
    expect(await kiln("refresh", "--all")).toEqual({ code: 0, out: "app: unchanged\n", err: "" });
    expect((await fs.readFile(lockFile())).equals(before)).toBe(true);
    expect((await fs.stat(lockFile())).mtimeMs).toBe(mtime);
  });

  it("a moved tag: lock keeps the pin, refresh prints the change and writes it", async () => {
    const v2 = await repo.commit({ "README": "v2\n" });
    repo.tag("v1");
    expect((await kiln("lock", "app")).out).toBe("app: unchanged\n");
    const r = await kiln("refresh", "app", "--only", "git");
    expect(r).toEqual({ code: 0, out: `app: updated\n  ~ git src: v1 ${v1.slice(0, 7)} -> v1 ${v2.slice(0, 7)}\n`, err: "" });
    expect(JSON.parse(await fs.readFile(lockFile(), "utf8")).git.src.commit).toBe(v2);
  });

  it("bad input gets one line and a non-zero exit", async () => {
    expect(await kiln("refresh", "--only", "git,pypi", "app")).toEqual({ code: 1, out: "", err: `kiln: --only: unknown input kind "pypi"; choose from debian, git, url, image, source, npm\n` });
    expect((await kiln("refresh", "nope")).err).toMatch(/^kiln: unknown image "nope"/);
    expect((await kiln("refresh", "app", "--snapshot", "yesterday")).err).toBe('kiln: --snapshot: "yesterday" is not a snapshot timestamp; use a timestamp like 20261129T000000Z, or latest\n');
    const offline = await kiln("refresh", "app", "--offline");
    expect([offline.code, offline.err]).toEqual([1, `kiln: offline: cannot resolve git source src (${repo.url} v1); resolving refs needs the network; run without --offline\n`]);
  });
});
