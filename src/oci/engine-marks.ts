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
import { isIndexMediaType, OciStore, writeAtomic, type Descriptor, type OciIndex, type OciManifest } from "./store.ts";

export const ENGINE_LAYER_MARKS: readonly string[] = ["buildkit/rewritten-timestamp"];

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

/** Writes `value` as BuildKit formats JSON (two-space indent, no final newline) in place of the blob `replaces`. */
async function replaceBlob(layout: OciStore, replaces: string, value: unknown): Promise<{ digest: string; size: number }> {
  const written = await layout.writeBlob(Buffer.from(JSON.stringify(value, null, 2)));
  if (written.digest !== replaces) await fs.rm(layout.blobPath(replaces), { force: true });
  return written;
}

/** Rewrites what `desc` points to without the marks; returns the new descriptor (the same one when nothing changed). */
async function unmark(layout: OciStore, desc: Descriptor): Promise<Descriptor> {
  if (isIndexMediaType(desc.mediaType)) {
    const index = await layout.readJson<OciIndex>(desc.digest);
    const manifests = await Promise.all(index.manifests.map((m) => unmark(layout, m)));
    if (manifests.every((m, i) => m === index.manifests[i])) return desc;
    return { ...desc, ...(await replaceBlob(layout, desc.digest, { ...index, manifests })) };
  }
  const manifest = await layout.readJson<OciManifest>(desc.digest);
  const unmarked = Array.isArray(manifest.layers) ? unmarkedManifest(manifest) : undefined;
  return unmarked ? { ...desc, ...(await replaceBlob(layout, desc.digest, unmarked)) } : desc;
}

/** Takes the marks out of the OCI layout `dir` (an engine's export of one image), in place. */
export async function removeEngineMarks(dir: string): Promise<void> {
  const layout = await OciStore.open(dir);
  const top = await layout.index();
  const manifests = await Promise.all(top.manifests.map((m) => unmark(layout, m)));
  if (manifests.every((m, i) => m === top.manifests[i])) return;
  await writeAtomic(path.join(dir, "index.json"), JSON.stringify({ ...top, manifests }));
}
