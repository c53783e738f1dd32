/**
 * Builds small OCI image layouts in memory (tar-stream + gzip) for tests that
 * need an image without an engine: exact files, modes, owners and configs.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";

export interface FixtureFile {
  path: string;
  type?: "file" | "directory" | "symlink";
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch (default 1735689600). */
  mtime?: number;
  linkname?: string;
}

export interface FixtureImage {
  layers: FixtureFile[][];
  config?: Record<string, unknown>;
  history?: Record<string, unknown>[];
  architecture?: string;
  labels?: Record<string, string>;
  /** Descriptor annotations per layer (by position). */
  layerAnnotations?: (Record<string, string> | undefined)[];
  /** Plain tar layers (media type `...tar`) instead of gzip ones. */
  uncompressed?: boolean;
}

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

export async function tarOf(files: FixtureFile[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const f of files) {
    const type = f.type ?? "file";
    const header = {
      name: f.path,
      type,
      mode: f.mode ?? (type === "directory" ? 0o755 : 0o644),
      uid: f.uid ?? 0,
      gid: f.gid ?? 0,
      mtime: new Date((f.mtime ?? 1735689600) * 1000),
      ...(f.linkname ? { linkname: f.linkname } : {}),
    };
    if (type === "file") pack.entry(header, Buffer.from(f.content ?? ""));
    else pack.entry(header);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function putBlob(dir: string, data: Buffer | string): Promise<{ digest: string; size: number }> {
  const hex = sha(data);
  await fs.mkdir(path.join(dir, "blobs", "sha256"), { recursive: true });
  await fs.writeFile(path.join(dir, "blobs", "sha256", hex), data);
  return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
}

/** Writes a layout holding one single-platform image under an index; returns the index digest. */
export async function writeLayout(dir: string, image: FixtureImage): Promise<{ index: string; manifest: string }> {
  const arch = image.architecture ?? "amd64";
  const layers = [];
  const diffIds = [];
  for (const [i, files] of image.layers.entries()) {
    const raw = await tarOf(files);
    diffIds.push(`sha256:${sha(raw)}`);
    const annotations = image.layerAnnotations?.[i];
    const blob = image.uncompressed ? { mediaType: "application/vnd.oci.image.layer.v1.tar", ...(await putBlob(dir, raw)) } : { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...(await putBlob(dir, gzipSync(raw))) };
    layers.push({ ...blob, ...(annotations ? { annotations } : {}) });
  }
  const config = {
    architecture: arch,
    os: "linux",
    config: { User: "2000", Env: ["PATH=/usr/bin:/bin"], ...(image.labels ? { Labels: image.labels } : {}), ...image.config },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: image.history ?? image.layers.map((_, i) => ({ created: "2025-01-01T00:00:00Z", created_by: `layer ${i}` })),
  };
  const configBlob = await putBlob(dir, JSON.stringify(config));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configBlob },
    layers,
  });
  const m = await putBlob(dir, manifest);
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...m, platform: { architecture: arch, os: "linux" } }],
  });
  const i = await putBlob(dir, index);
  await fs.writeFile(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await fs.writeFile(
    path.join(dir, "index.json"),
    JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", ...i }] }),
  );
  return { index: i.digest, manifest: m.digest };
}
