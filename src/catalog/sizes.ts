/**
 * What a stored image weighs, per platform. Compressed: the sum of the layer
 * blob sizes in the manifest (what a pull transfers, without config and
 * manifest). Uncompressed: the sum of the layers' tar streams after
 * decompression (the diff ids' byte counts, what `docker image ls` shows as
 * content size; not the size on disk after unpacking). Decompressing is paid
 * once per layer: results are kept by layer digest in the catalog state.
 */
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import type { LayerRef } from "../oci/layers.ts";
import type { OciManifest, OciStore } from "../oci/store.ts";
import type { CatalogState } from "./state.ts";

export interface PlatformSize {
  platform: string;
  manifest: string;
  layers: number;
  compressedBytes: number;
  uncompressedBytes: number;
}

export async function imageSizes(store: OciStore, state: CatalogState, refOrDigest: string): Promise<PlatformSize[]> {
  const image = await store.require(refOrDigest);
  const out: PlatformSize[] = [];
  for (const [platform, desc] of Object.entries(image.manifests).sort(([a], [b]) => a.localeCompare(b))) {
    const manifest = await store.readJson<OciManifest>(desc.digest);
    const uncompressed = await Promise.all(manifest.layers.map((l) => state.layerSize(l.digest, () => uncompressedSize(store, l))));
    out.push({
      platform,
      manifest: desc.digest,
      layers: manifest.layers.length,
      compressedBytes: manifest.layers.reduce((sum, l) => sum + l.size, 0),
      uncompressedBytes: uncompressed.reduce((a, b) => a + b, 0),
    });
  }
  return out;
}

/** Bytes of the layer's tar stream (read through the store's digest checks): gzip layers are decompressed and counted, plain tars are their own size. */
export async function uncompressedSize(store: Pick<OciStore, "openBlob">, layer: LayerRef): Promise<number> {
  const { mediaType } = layer;
  let count = 0;
  const counter = new Writable({
    write(chunk: Buffer, _enc, done) {
      count += chunk.length;
      done();
    },
  });
  if (mediaType.endsWith("+gzip") || mediaType.endsWith(".gzip")) await pipeline(store.openBlob(layer), createGunzip(), counter);
  else if (mediaType.endsWith("+zstd") || mediaType.endsWith(".zstd")) return Number.NaN;
  else await pipeline(store.openBlob(layer), counter);
  return count;
}

/** 1234567 -> "1.2 MB" (decimal units, as registries show them). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return "?";
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
