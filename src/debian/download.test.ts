import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/temp-dir.ts";
import { settingsSchema } from "../settings/schema.ts";
import { ContentStore } from "../util/cas.ts";
import { fetchBytes, fetchIntoStore } from "./download.ts";

const BODY = "Packages index bytes\n";
const SHA = createHash("sha256").update(BODY).digest("hex");
const settings = settingsSchema.parse({});
let server: http.Server;
let mirror: string;
const dead = "http://127.0.0.1:9"; // the discard port: nothing listens

beforeAll(async () => {
  server = http.createServer((req, res) => (req.url === "/debian/ok" ? res.end(BODY) : res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

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
    const file = await fetchIntoStore(store, [dead, mirror], "ok", SHA, settings, "the index");
    expect(await fs.readFile(file, "utf8")).toBe(BODY);
    await expect(fetchIntoStore(store, [mirror], "ok", "0".repeat(64), settings, "the index")).rejects.toThrow(`cannot fetch the index: ${mirror}/ok: sha256 ${SHA}, expected ${"0".repeat(64)}`);
  });

  it("refuses to go online when offline", async () => {
    await expect(fetchBytes([mirror], "ok", { ...settings, offline: true }, "the index")).rejects.toThrow("offline: the index is not in the cache");
  });
});
