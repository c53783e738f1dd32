import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { gzipSync } from "node:zlib";
import { tarOf, writeLayout } from "../../test/support/oci-layout.ts";
import { tempDir } from "../../test/support/temp-dir.ts";
import { KilnError } from "../errors.ts";
import { readImageFiles } from "./layers.ts";
import { MEDIA_MANIFEST, OciStore } from "./store.ts";

async function layout(content: string): Promise<string> {
  const dir = await tempDir("kiln-layout-");
  await writeLayout(dir, { layers: [[{ path: "hello", content }]] });
  return dir;
}

/** Files in the store that no reader should ever see: half-written blobs or indices. */
async function temporaries(store: string): Promise<string[]> {
  const top = await fs.readdir(store);
  const blobs = await fs.readdir(path.join(store, "blobs", "sha256"));
  return [...top, ...blobs].filter((f) => f.includes(".tmp-"));
}

afterEach(() => vi.restoreAllMocks());

describe("OciStore", () => {
  it("never writes an empty index over one that exists", async () => {
    const dir = await tempDir("kiln-store-");
    const store = await OciStore.open(dir);
    await store.importLayout(await layout("a"), "a:image");
    const before = await fs.readFile(path.join(dir, "index.json"), "utf8");
    await OciStore.open(dir);
    expect(await fs.readFile(path.join(dir, "index.json"), "utf8")).toBe(before);
    expect(await temporaries(dir)).toEqual([]);
  });

  it("keeps every entry when imports run at the same time", async () => {
    const dir = await tempDir("kiln-store-");
    const [one, two] = await Promise.all([OciStore.open(dir), OciStore.open(dir)]);
    const layouts = await Promise.all(["a", "b", "c", "d"].map(layout));
    await Promise.all(layouts.map((l, i) => (i % 2 ? one : two).importLayout(l, `img${i}:image`)));
    const refs = (await one.list()).map((i) => i.ref);
    expect(refs).toEqual(["img0:image", "img1:image", "img2:image", "img3:image"]);
  });

  it("on a full disk: one clear error, no half-written blob, the index and earlier images as they were", async () => {
    const dir = await tempDir("kiln-store-");
    const store = await OciStore.open(dir);
    const first = await store.importLayout(await layout("first"), "first:image");
    const index = await fs.readFile(path.join(dir, "index.json"), "utf8");
    vi.spyOn(fs, "copyFile").mockImplementation(async (src, dest) => {
      // Half the bytes land, then the disk is full: what ENOSPC leaves behind.
      await fs.writeFile(dest, (await fs.readFile(src)).subarray(0, 10));
      throw Object.assign(new Error("ENOSPC: no space left on device, copyfile"), { code: "ENOSPC", path: String(dest) });
    });
    const second = await layout("second");
    const err = await store.importLayout(second, "second:image").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).toLine()).toBe(
      `the store ${dir} is full: second:image was not stored: no space left on device; the store is unchanged and its earlier images are intact; free some space, or point the store (KILN_STORE) or the cache (KILN_CACHE_DIR) at a larger disk, and run again`,
    );
    expect(await fs.readFile(path.join(dir, "index.json"), "utf8")).toBe(index);
    expect(await temporaries(dir)).toEqual([]);
    expect((await store.resolve("first:image"))?.digest).toBe(first.digest);
    expect(await store.resolve("second:image")).toBeUndefined();
  });

  it("leaves the index whole when writing it fails", async () => {
    const dir = await tempDir("kiln-store-");
    const store = await OciStore.open(dir);
    await store.importLayout(await layout("first"), "first:image");
    const index = await fs.readFile(path.join(dir, "index.json"), "utf8");
    const second = await layout("second");
    vi.spyOn(fs, "writeFile").mockImplementation(async (file) => {
      await fs.appendFile(String(file), "{ half");
      throw Object.assign(new Error("ENOSPC: no space left on device, open"), { code: "ENOSPC", path: String(file) });
    });
    await expect(store.importLayout(second, "second:image")).rejects.toThrow(/^the store .* is full: second:image was not stored/);
    vi.restoreAllMocks();
    expect(await fs.readFile(path.join(dir, "index.json"), "utf8")).toBe(index);
    expect(await temporaries(dir)).toEqual([]);
  });

  it("sweeps what a writer killed outright left, and keeps what a live one is writing", async () => {
    const dir = await tempDir("kiln-store-");
    await OciStore.open(dir);
    // pid 2^22 + 1 is above Linux's pid_max: no process has it.
    const dead = path.join(dir, "blobs", "sha256", "ab".repeat(32) + ".tmp-4194305-0a0b0c0d0e0f");
    const live = path.join(dir, "index.json.tmp-" + process.pid + "-0a0b0c0d0e0f");
    await fs.writeFile(dead, "half a blob");
    await fs.writeFile(live, "being written");
    const other = path.join(await tempDir("kiln-store-"), "s");
    await fs.cp(dir, other, { recursive: true });
    await OciStore.open(other);
    expect(await temporaries(other)).toEqual([path.basename(live)]);
  });
});

/** A store holding one manifest whose single layer is `layer` (of `mediaType`); returns the store, the manifest and the layer's file. */
async function storeWithLayer(layer: Buffer, mediaType: string): Promise<{ store: OciStore; manifest: string; file: string }> {
  const store = await OciStore.open(await tempDir("kiln-store-"));
  const config = await store.writeBlob(Buffer.from(JSON.stringify({ os: "linux", architecture: "amd64" })));
  const blob = await store.writeBlob(layer);
  const manifest = await store.writeBlob(
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config }, layers: [{ mediaType, ...blob }] })),
  );
  return { store, manifest: manifest.digest, file: store.blobPath(blob.digest) };
}

async function flipByte(file: string, at: (size: number) => number): Promise<void> {
  const bytes = await fs.readFile(file);
  bytes[at(bytes.length)]! ^= 0x01;
  await fs.chmod(file, 0o644);
  await fs.writeFile(file, bytes);
}

const errorLine = (e: unknown) => (e instanceof KilnError ? e.toLine() : `not a KilnError: ${String(e)}`);

describe("OciStore reads are verified", () => {
  const tarLayer = () => tarOf([{ path: "usr/bin/tool", content: "#!/bin/sh\necho the genuine tool\n", mode: 0o755 }]);

  it("reads an intact layer", async () => {
    const { store, manifest } = await storeWithLayer(gzipSync(await tarLayer()), "application/vnd.oci.image.layer.v1.tar+gzip");
    const files = await readImageFiles(store, manifest);
    expect(files.get("usr/bin/tool")?.content?.toString()).toContain("the genuine tool");
  });

  it.each([
    ["a gzip layer, mid-stream", "application/vnd.oci.image.layer.v1.tar+gzip", true, (n: number) => Math.floor(n / 2)],
    ["a gzip layer, its last byte", "application/vnd.oci.image.layer.v1.tar+gzip", true, (n: number) => n - 1],
    ["a plain tar layer, inside a file's bytes", "application/vnd.oci.image.layer.v1.tar", false, () => 512 + 12],
    ["a layer of unknown media type", "application/x-unknown", true, (n: number) => Math.floor(n / 2)],
  ])("refuses a flipped byte in %s, naming the blob and the store", async (_what, mediaType, gzip, at) => {
    const raw = await tarLayer();
    const { store, manifest, file } = await storeWithLayer(gzip ? gzipSync(raw) : raw, mediaType);
    const digest = `sha256:${path.basename(file)}`;
    await flipByte(file, at);
    const actual = (await import("../util/cas.ts")).hashBytes(await fs.readFile(file));
    const err = await readImageFiles(store, manifest).catch((e: unknown) => e);
    expect(errorLine(err)).toBe(`blob ${digest} in the store ${store.dir} is corrupt: its bytes hash to sha256:${actual}; remove ${file} and build the image that holds it again`);
  });

  it("refuses a blob longer than its descriptor says", async () => {
    const { store, manifest, file } = await storeWithLayer(await tarLayer(), "application/vnd.oci.image.layer.v1.tar");
    const size = (await fs.stat(file)).size;
    await fs.chmod(file, 0o644);
    await fs.appendFile(file, "x");
    const err = await readImageFiles(store, manifest).catch((e: unknown) => e);
    expect(errorLine(err)).toMatch(new RegExp(`^blob sha256:[0-9a-f]{64} in the store .* is corrupt: it is larger than the ${size} bytes its descriptor says; remove `));
  });

  it("refuses a manifest or config whose bytes changed", async () => {
    const { store, manifest } = await storeWithLayer(await tarLayer(), "application/vnd.oci.image.layer.v1.tar");
    await flipByte(store.blobPath(manifest), (n) => n - 3);
    expect(errorLine(await store.readJson(manifest).catch((e: unknown) => e))).toMatch(/^blob sha256:[0-9a-f]{64} in the store .* is corrupt: its bytes hash to sha256:[0-9a-f]{64}; remove /);
  });

  it("says a missing blob is missing", async () => {
    const store = await OciStore.open(await tempDir("kiln-store-"));
    const digest = `sha256:${"0".repeat(64)}`;
    expect(errorLine(await store.readJson(digest).catch((e: unknown) => e))).toBe(`blob ${digest} is missing from the store ${store.dir}; build the image that holds it again`);
  });

  it("refuses a digest that is not one wherever it enters: blob names, image names, index entries", async () => {
    const store = await OciStore.open(await tempDir("kiln-store-"));
    expect(() => store.blobPath("sha256:../../../etc/passwd")).toThrow(`blob name for the store ${store.dir}: "sha256:../../../etc/passwd" is not a digest`);
    expect(errorLine(await store.resolve("sha256:1234").catch((e: unknown) => e))).toBe('image: "sha256:1234" is not a digest; a digest is sha256: followed by 64 lowercase hex digits');
    const index = path.join(store.dir, "index.json");
    await fs.writeFile(index, JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA_MANIFEST, digest: "sha256:../oci-layout", size: 2 }] }));
    expect(errorLine(await store.list().catch((e: unknown) => e))).toBe(
      `the store's index ${index}: "sha256:../oci-layout" is not a digest; remove that entry from ${index}, or the store ${store.dir}, and build again`,
    );
  });
});
