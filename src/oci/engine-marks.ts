/**
 * Layer marks BuildKit writes for its own bookkeeping, which differ between its versions, taken out
 * of an engine's OCI export before kiln stores it, so that the digest depends on the image and not
 * on the engine that built it.
 *
 * `buildkit/rewritten-timestamp` tells BuildKit's converter a layer was already re-stamped to an
 * epoch. BuildKit 0.26 re-stamps (and marks) only the image's own layers; older versions (docker
 * 26's) re-stamp the parent's layers too, to the same bytes, and mark them: the same blobs, a
 * different manifest. Without the mark, a later build re-stamps the layer again to the same bytes.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { hashBytes } from "../util/cas.ts";
import type { Descriptor, OciIndex, OciManifest } from "./store.ts";

export const ENGINE_LAYER_MARKS: readonly string[] = ["buildkit/rewritten-timestamp"];

const INDEX_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);

/** A manifest without the marks, or undefined when it has none. */
export function unmarkedManifest(manifest: OciManifest): OciManifest | undefined {
  let changed = false;
  const layers = manifest.layers.map((layer) => {
    const kept = Object.entries(layer.annotations ?? {}).filter(([k]) => !ENGINE_LAYER_MARKS.includes(k));
    if (kept.length === Object.keys(layer.annotations ?? {}).length) return layer;
    changed = true;
    const unmarked: Descriptor = { ...layer };
    delete unmarked.annotations;
    return kept.length ? { ...unmarked, annotations: Object.fromEntries(kept) } : unmarked;
  });
  return changed ? { ...manifest, layers } : undefined;
}

/** The layout's blobs, read and replaced in place. */
class LayoutBlobs {
  constructor(private readonly dir: string) {}
  private file(digest: string): string {
    return path.join(this.dir, "blobs", "sha256", digest.replace(/^sha256:/, ""));
  }
  async json<T>(digest: string): Promise<T> {
    return JSON.parse(await fs.readFile(this.file(digest), "utf8")) as T;
  }
  /** Writes `value` as BuildKit formats JSON (two-space indent, no final newline) and drops `replaces`. */
  async replace(replaces: string, value: unknown): Promise<{ digest: string; size: number }> {
    const bytes = Buffer.from(JSON.stringify(value, null, 2));
    const digest = `sha256:${hashBytes(bytes)}`;
    await fs.writeFile(this.file(digest), bytes);
    if (digest !== replaces) await fs.rm(this.file(replaces), { force: true });
    return { digest, size: bytes.length };
  }
}

/** Rewrites what `desc` points to without the marks; returns the new descriptor (the same one when nothing changed). */
async function unmark(blobs: LayoutBlobs, desc: Descriptor): Promise<Descriptor> {
  if (INDEX_TYPES.has(desc.mediaType)) {
    const index = await blobs.json<OciIndex>(desc.digest);
    const manifests = await Promise.all(index.manifests.map((m) => unmark(blobs, m)));
    if (manifests.every((m, i) => m === index.manifests[i])) return desc;
    return { ...desc, ...(await blobs.replace(desc.digest, { ...index, manifests })) };
  }
  const manifest = await blobs.json<OciManifest>(desc.digest);
  const unmarked = Array.isArray(manifest.layers) ? unmarkedManifest(manifest) : undefined;
  return unmarked ? { ...desc, ...(await blobs.replace(desc.digest, unmarked)) } : desc;
}

/** Takes the marks out of the OCI layout `dir` (an engine's export of one image), in place. */
export async function removeEngineMarks(dir: string): Promise<void> {
  const file = path.join(dir, "index.json");
  const top = JSON.parse(await fs.readFile(file, "utf8")) as OciIndex;
  const blobs = new LayoutBlobs(dir);
  const manifests = await Promise.all(top.manifests.map((m) => unmark(blobs, m)));
  if (manifests.every((m, i) => m === top.manifests[i])) return;
  await fs.writeFile(file, JSON.stringify({ ...top, manifests }));
}
