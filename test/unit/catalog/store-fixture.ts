/** A stand-in for a build in unit tests: a tiny real OCI layout imported into a store. */
import fs from "node:fs/promises";
import path from "node:path";
import { MEDIA_MANIFEST, type OciStore } from "../../../src/oci/store.ts";
import { hashBytes } from "../../../src/util/cas.ts";
import { tempDir } from "../../support/temp-dir.ts";

export async function fakeBuild(store: OciStore, ref: string, salt = ""): Promise<string> {
  const dir = await tempDir("kiln-layout-");
  await fs.mkdir(path.join(dir, "blobs", "sha256"), { recursive: true });
  const put = async (data: string) => {
    const hex = hashBytes(data);
    await fs.writeFile(path.join(dir, "blobs", "sha256", hex), data);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
  };
  const config = await put(JSON.stringify({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [] }, salt: `${ref}${salt}` }));
  const manifest = await put(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config }, layers: [] }));
  await fs.writeFile(path.join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA_MANIFEST, ...manifest }] }));
  await store.importLayout(dir, ref);
  await fs.rm(dir, { recursive: true });
  return manifest.digest;
}
