import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { writeLayout } from "../../test/support/oci-layout.ts";
import { tempDir } from "../../test/support/temp-dir.ts";
import { KilnError } from "../errors.ts";
import { OciStore } from "./store.ts";

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
