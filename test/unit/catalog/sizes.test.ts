import fs from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { formatBytes, uncompressedSize } from "../../../src/catalog/sizes.ts";
import { CatalogState } from "../../../src/catalog/state.ts";
import { OciStore } from "../../../src/oci/store.ts";
import { tempDir } from "../../support/temp-dir.ts";

describe("layer sizes", () => {
  it("counts the bytes of a gzip layer after decompression, and of a plain tar as is", async () => {
    const store = await OciStore.open(await tempDir("kiln-sizes-"));
    const raw = Buffer.alloc(300_000, "a");
    const gz = await store.writeBlob(gzipSync(raw));
    const tar = await store.writeBlob(raw);
    expect(await uncompressedSize(store, { ...gz, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" })).toBe(300_000);
    expect(await uncompressedSize(store, { ...tar, mediaType: "application/vnd.oci.image.layer.v1.tar" })).toBe(300_000);
  });

  it("measures a layer once and then answers from the state", async () => {
    const state = new CatalogState(await tempDir("kiln-state-"));
    let measured = 0;
    const measure = async () => (measured++, 1234);
    expect(await state.layerSize("sha256:" + "b".repeat(64), measure)).toBe(1234);
    expect(await state.layerSize("sha256:" + "b".repeat(64), measure)).toBe(1234);
    expect(measured).toBe(1);
  });

  it("keeps verify verdicts by image digest, and treats a damaged record as no verdict", async () => {
    const state = new CatalogState(await tempDir("kiln-state-"));
    const [a, b] = ["sha256:" + "a".repeat(64), "sha256:" + "c".repeat(64)];
    expect(await state.loadVerdict(a)).toBeUndefined();
    await state.saveVerdict(a, { ref: "x:image", reproducible: true, verifiedAt: "2026-01-01T00:00:00Z" });
    expect(await state.loadVerdict(a)).toEqual({ ref: "x:image", reproducible: true, verifiedAt: "2026-01-01T00:00:00Z" });
    await fs.mkdir(path.join(state.dir, "verdicts"), { recursive: true });
    await fs.writeFile(path.join(state.dir, "verdicts", b.replace(":", "-") + ".json"), "{not json");
    expect(await state.loadVerdict(b)).toBeUndefined();
    await expect(state.saveVerdict("latest", { ref: "x:image", reproducible: true, verifiedAt: "" })).rejects.toThrow("not an image digest: latest");
  });

  it("formats sizes in decimal units", () => {
    expect([formatBytes(999), formatBytes(1000), formatBytes(28_200_000), formatBytes(121_100_000)]).toEqual(["999 B", "1.0 kB", "28 MB", "121 MB"]);
  });
});
