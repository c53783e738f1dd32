/**
 * A store and catalog state for site tests without an engine: a two-platform
 * image (one gzip layer each, a config with a build step) imported into a
 * fresh store, with a recorded history, a verdict and a test result.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { MEDIA_INDEX, MEDIA_MANIFEST, OciStore } from "../../src/oci/store.ts";
import { hashBytes } from "../../src/util/cas.ts";
import { tempDir } from "./temp-dir.ts";

/** Stores `ref` with a layer of `bytes` bytes per platform; returns the index digest. */
export async function storeTwoPlatformImage(store: OciStore, ref: string, bytes: number): Promise<string> {
  const dir = await tempDir("kiln-site-layout-");
  await fs.mkdir(path.join(dir, "blobs", "sha256"), { recursive: true });
  const put = async (data: Buffer | string) => {
    const hex = hashBytes(data);
    await fs.writeFile(path.join(dir, "blobs", "sha256", hex), data);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
  };
  const manifests = [];
  for (const architecture of ["amd64", "arm64"]) {
    const layer = await put(gzipSync(Buffer.alloc(bytes, architecture)));
    const config = await put(
      JSON.stringify({
        os: "linux",
        architecture,
        config: { Labels: { "org.opencontainers.image.version": "1.2.3" } },
        rootfs: { type: "layers", diff_ids: [] },
        history: [{ created_by: "COPY <script>alert(1)</script> /data # buildkit" }],
      }),
    );
    const manifest = await put(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_MANIFEST,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
      }),
    );
    manifests.push({ mediaType: MEDIA_MANIFEST, ...manifest, platform: { os: "linux", architecture } });
  }
  const index = await put(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_INDEX, manifests }));
  await fs.writeFile(path.join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA_INDEX, ...index }] }));
  const stored = await store.importLayout(dir, ref);
  return stored.digest;
}
