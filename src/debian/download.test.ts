import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/temp-dir.ts";
import { settingsSchema } from "../settings/schema.ts";
import { ContentStore } from "../util/cas.ts";
import { boundedStream, curlConfig, fetchBytes, fetchIntoStore, SizeBoundError } from "./download.ts";

const BODY = "Packages index bytes\n";
const SHA = createHash("sha256").update(BODY).digest("hex");
const settings = settingsSchema.parse({});
let server: http.Server;
let mirror: string;
const dead = "http://127.0.0.1:9"; // the discard port: nothing listens

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/debian/ok") return void res.end(BODY);
    if (req.url !== "/debian/endless") return void res.writeHead(404).end();
    const chunk = Buffer.alloc(16 * 1024, "x");
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once("drain", pump);
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Every file under `dir`, recursively. */
const filesUnder = async (dir: string): Promise<string[]> => ((await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) as import("node:fs").Dirent[]).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));

describe("mirror downloads", () => {
  it("falls through dead mirrors to one that answers", async () => {
    const r = await fetchBytes([dead, mirror], "ok", settings, "the index");
    expect(r).toEqual({ mirror, data: Buffer.from(BODY) });
  });

  it("names every mirror with curl's reason when none has the file", async () => {
    await expect(fetchBytes([dead, mirror], "missing", settings, "the index")).rejects.toThrow(
      new RegExp(`^cannot fetch the index: ${dead}/missing: curl: \\(7\\) .*; ${mirror}/missing: curl: \\(22\\) .*404$`),
    );
  });

  it("stores only bytes with the expected hash", async () => {
    const store = new ContentStore(await tempDir("kiln-cas-"));
    const file = await fetchIntoStore(store, [dead, mirror], "ok", SHA, settings, "the index", BODY.length);
    expect(await fs.readFile(file, "utf8")).toBe(BODY);
    await expect(fetchIntoStore(store, [mirror], "ok", "0".repeat(64), settings, "the index", BODY.length)).rejects.toThrow(`cannot fetch the index: ${mirror}/ok: sha256 ${SHA}, expected ${"0".repeat(64)}`);
  });

  it("cuts a file longer than the signed size, leaving nothing in the cache", async () => {
    const store = new ContentStore(await tempDir("kiln-cas-"));
    await expect(fetchIntoStore(store, [mirror], "ok", SHA, settings, "the index", BODY.length - 1)).rejects.toThrow(`cannot fetch the index: ${mirror}/ok: more than the ${BODY.length - 1} bytes expected; cut there and refused`);
    expect(await filesUnder(store.root)).toEqual([]);
  });

  it("cuts an endless answer at the bound, in memory and into the cache", async () => {
    const store = new ContentStore(await tempDir("kiln-cas-"));
    await expect(fetchIntoStore(store, [mirror], "endless", SHA, settings, "the index", 1_000_000)).rejects.toThrow(`cannot fetch the index: ${mirror}/endless: more than the 1000000 bytes expected; cut there and refused`);
    expect(await filesUnder(store.root)).toEqual([]);
    await expect(fetchBytes([mirror], "endless", settings, "the InRelease", 200_000)).rejects.toThrow(`cannot fetch the InRelease: ${mirror}/endless: more than the 200000 bytes expected; cut there and refused`);
  });

  it("refuses to go online when offline", async () => {
    await expect(fetchBytes([mirror], "ok", { ...settings, offline: true }, "the index")).rejects.toThrow("offline: the index is not in the cache");
  });
});

describe("the bounded stream", () => {
  it("passes up to the bound and fails on the first byte past it", async () => {
    const through: Buffer[] = [];
    const sink = async (src: AsyncIterable<Buffer>) => {
      for await (const c of src) through.push(c);
    };
    await pipeline(Readable.from([Buffer.alloc(3), Buffer.alloc(2)]), boundedStream(5), sink);
    expect(Buffer.concat(through).length).toBe(5);
    const err = await pipeline(Readable.from([Buffer.alloc(3), Buffer.alloc(3)]), boundedStream(5), sink).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SizeBoundError);
  });
});

describe("curl's configuration", () => {
  it("carries the URL, proxy and user agent (for curl's standard input, never its command line)", () => {
    const s = settingsSchema.parse({ apt: { proxy: 'http://user:p"w@proxy:3128', userAgent: "kiln" } });
    expect(curlConfig(s, "http://m/debian/x")).toBe(
      'fail\nsilent\nshow-error\nlocation\nretry = 2\nconnect-timeout = 15\nmax-time = 600\nurl = "http://m/debian/x"\nproxy = "http://user:p\\"w@proxy:3128"\nuser-agent = "kiln"\n',
    );
  });
});
