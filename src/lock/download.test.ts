import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileServer, makeSigningKey, tempDir } from "../../test/support/lock-fixtures.ts";
import { ContentStore, hashBytes } from "../util/cas.ts";
import { downloadUrls, fetchToCache, signatureUrl } from "./download.ts";
import { verifyDetachedSignature } from "./signature.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
const child = (args: string[]) => spawn(process.execPath, ["--import", "tsx", path.join(REPO, "test/support/fetch-child.ts"), ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
const exited = (p: ReturnType<typeof child>) =>
  new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    let out = "";
    let err = "";
    p.stdout!.on("data", (d) => (out += d));
    p.stderr!.on("data", (d) => (err += d));
    p.on("close", (code) => resolve({ code, out, err }));
  });
const entries = async (dir: string) => (await fs.readdir(dir).catch(() => [] as string[])).sort();

describe("download URLs per platform", () => {
  it("shares one URL, fills {arch}, or takes one URL per platform", () => {
    const platforms = ["linux/amd64", "linux/arm64"] as const;
    expect(downloadUrls({ url: "https://x/a.tgz", algorithm: "sha256" }, platforms)).toEqual({ any: "https://x/a.tgz" });
    expect(downloadUrls({ url: "https://x/a-{arch}.tgz", algorithm: "sha256" }, platforms)).toEqual({ "linux/amd64": "https://x/a-amd64.tgz", "linux/arm64": "https://x/a-arm64.tgz" });
    expect(downloadUrls({ url: { "linux/amd64": "https://x/amd", "linux/arm64": "https://x/arm" }, algorithm: "sha256" }, ["linux/arm64"])).toEqual({ "linux/arm64": "https://x/arm" });
    expect(signatureUrl("{url}.asc", "https://x/a-arm64.tgz", "linux/arm64")).toBe("https://x/a-arm64.tgz.asc");
  });
});

describe("fetching into the content cache", () => {
  let root: string;
  let server: FileServer;
  const body = randomBytes(256 * 1024);
  const hex = hashBytes(body);

  beforeAll(async () => {
    root = await tempDir();
    server = await new FileServer().start();
    server.files.set("/tool.bin", body);
  });
  afterAll(async () => {
    await server.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it("resolves, then serves from the cache (offline too), and refuses changed bytes with expected and actual", async () => {
    const store = new ContentStore(path.join(root, "c1"));
    const opts = { store, url: server.url("/tool.bin"), algorithm: "sha256" as const, what: "download tool (any)", offline: false, fix: "run `kiln refresh t`" };
    const got = await fetchToCache(opts);
    expect(got.hex).toBe(hex);
    const before = server.requests.length;
    expect((await fetchToCache({ ...opts, expected: hex, offline: true })).path).toBe(got.path);
    expect(server.requests.length).toBe(before);

    const cold = new ContentStore(path.join(root, "cold"));
    await expect(fetchToCache({ ...opts, store: cold, expected: hex, offline: true })).rejects.toThrow(`offline: download tool (any) (${opts.url}, sha256 ${hex}) is not in the cache`);

    server.files.set("/changed.bin", Buffer.from("other bytes"));
    const err = await fetchToCache({ ...opts, store: cold, url: server.url("/changed.bin"), expected: hex }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`download tool (any): ${server.url("/changed.bin")} has sha256 ${hashBytes("other bytes")}, the lock expects ${hex}`);
    expect(await entries(path.join(root, "cold", "sha256"))).toEqual([]);
    await expect(fetchToCache({ ...opts, url: server.url("/missing") })).rejects.toThrow(/answered HTTP 404/);
  });

  it("two processes fetching the same file at once leave one intact entry", async () => {
    const cache = path.join(root, "shared");
    server.slow.add("/tool.bin");
    try {
      const results = await Promise.all([0, 1].map(() => exited(child([cache, server.url("/tool.bin"), hex]))));
      for (const r of results) expect({ code: r.code, out: r.out.trim(), err: r.err }).toEqual({ code: 0, out: hex, err: "" });
    } finally {
      server.slow.delete("/tool.bin");
    }
    expect(await entries(path.join(cache, "sha256"))).toEqual([hex]);
    expect(hashBytes(await fs.readFile(path.join(cache, "sha256", hex)))).toBe(hex);
  });

  it("a download killed half way never becomes an entry", async () => {
    const cache = path.join(root, "killed");
    server.files.set("/big.bin", body);
    server.stall.add("/big.bin");
    const p = child([cache, server.url("/big.bin"), hex]);
    const done = exited(p);
    // Wait until the partial bytes sit in the private temporary file, then kill.
    for (let i = 0; i < 200; i++) {
      const tmp = (await entries(path.join(cache, "sha256"))).find((f) => f.startsWith(".tmp-"));
      if (tmp && (await fs.stat(path.join(cache, "sha256", tmp))).size > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    p.kill("SIGKILL");
    expect((await done).code).toBe(null);
    const left = await entries(path.join(cache, "sha256"));
    expect(left.filter((f) => !f.startsWith(".tmp-"))).toEqual([]);
    expect(left.length).toBe(1);
    expect(await new ContentStore(cache).getVerified("sha256", hex)).toBeUndefined();

    server.stall.delete("/big.bin");
    const r = await exited(child([cache, server.url("/big.bin"), hex]));
    expect(r.out.trim()).toBe(hex);
    expect(await new ContentStore(cache).getVerified("sha256", hex)).toBe(path.join(cache, "sha256", hex));
    // The next writer removed the killed one's temporary file.
    expect(await entries(path.join(cache, "sha256"))).toEqual([hex]);
  });
});

describe("detached signatures", () => {
  it("accepts the pinned key only", async () => {
    const dir = await tempDir();
    const key = await makeSigningKey();
    const other = await makeSigningKey();
    try {
      const data = path.join(dir, "data");
      await fs.writeFile(data, "payload\n");
      key.sign(data, `${data}.sig`);
      other.sign(data, `${data}.other.sig`);
      await fs.writeFile(path.join(dir, "key.asc"), key.publicKey);
      const opts = { what: "download d (any)", dataFile: data, sigFile: `${data}.sig`, keyFile: path.join(dir, "key.asc"), fingerprint: key.fingerprint };
      await verifyDetachedSignature(opts);
      await expect(verifyDetachedSignature({ ...opts, sigFile: `${data}.other.sig` })).rejects.toThrow(`download d (any): signature does not verify with key ${key.fingerprint}`);
      await fs.appendFile(data, "tampered");
      await expect(verifyDetachedSignature(opts)).rejects.toThrow(/signature does not verify/);
    } finally {
      await key.cleanup();
      await other.cleanup();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
