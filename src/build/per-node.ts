/**
 * Multi-platform builds on a builder of several nodes (engine.nodes). buildx
 * refuses an OCI export from a build that spans nodes, so kiln builds each
 * platform alone (buildx sends it to the node that lists it), all at once, and
 * writes the image index itself, byte for byte as BuildKit's OCI exporter
 * does: the index digest is the one a single-node build gives.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { BuildPlan } from "../plan/types.ts";
import type { Descriptor, OciIndex } from "../oci/store.ts";
import { MEDIA_INDEX } from "../oci/store.ts";
import { hashBytes } from "../util/cas.ts";

/** One plan per platform, in the plan's platform order. */
export function planPerPlatform(plan: BuildPlan): BuildPlan[] {
  return plan.platforms.map((p) => ({ ...plan, platforms: [p] }));
}

/** `linux/arm64/v8` -> BuildKit's platform object (its field order: architecture, os, variant). */
function platformObject(platform: string): Descriptor["platform"] {
  const [os, architecture, variant] = platform.split("/");
  return { architecture: architecture!, os: os!, ...(variant ? { variant } : {}) };
}

/** The index BuildKit writes for these per-platform manifests: two-space indented JSON, no final newline. */
export function indexBytes(manifests: { platform: string; descriptor: Descriptor }[]): Buffer {
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_INDEX,
    manifests: manifests.map(({ platform, descriptor }) => ({ mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size, platform: platformObject(platform) })),
  };
  return Buffer.from(JSON.stringify(index, null, 2));
}

/**
 * Joins single-platform OCI layouts (one per platform, in order) into one
 * layout at `dest` whose image is their index; blobs are linked, not copied.
 */
export async function mergeLayouts(parts: { platform: string; dir: string }[], dest: string): Promise<string> {
  const blobs = path.join(dest, "blobs", "sha256");
  await fs.mkdir(blobs, { recursive: true });
  const manifests: { platform: string; descriptor: Descriptor }[] = [];
  for (const part of parts) {
    const idx = JSON.parse(await fs.readFile(path.join(part.dir, "index.json"), "utf8")) as OciIndex;
    const top = idx.manifests[0];
    if (idx.manifests.length !== 1 || !top) throw new Error(`expected one image in ${part.dir}, found ${idx.manifests.length}`);
    if (top.mediaType === MEDIA_INDEX) throw new Error(`the ${part.platform} build exported an index, not one manifest`);
    manifests.push({ platform: part.platform, descriptor: top });
    const from = path.join(part.dir, "blobs", "sha256");
    for (const hex of await fs.readdir(from)) {
      await fs.link(path.join(from, hex), path.join(blobs, hex)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "EEXIST") throw e;
      });
    }
  }
  const bytes = indexBytes(manifests);
  const digest = `sha256:${hashBytes(bytes)}`;
  await fs.writeFile(path.join(blobs, digest.slice("sha256:".length)), bytes);
  await fs.writeFile(path.join(dest, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const top: OciIndex = { schemaVersion: 2, manifests: [{ mediaType: MEDIA_INDEX, digest, size: bytes.length }] } as OciIndex;
  await fs.writeFile(path.join(dest, "index.json"), JSON.stringify(top));
  return digest;
}
