/**
 * Naming images for checks: a catalog reference in the local store
 * (`debian`, `base:runtime`), a digest in the store, or any OCI layout on
 * disk (`oci:PATH` or `oci:PATH@sha256:...`).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import { loadImage } from "../definition/catalog.ts";
import type { ImageDefinition, RuntimeExpectations } from "../definition/schema.ts";
import { defaultTargetOf } from "../plan/plan.ts";
import type { ImageSide } from "../oci/diff.ts";
import { OciStore } from "../oci/store.ts";

/** Runtime expectations of a target: its own block when it has one, else the image's. */
export function runtimeOf(def: ImageDefinition, target: string): RuntimeExpectations {
  return def.targets[target]?.runtime ?? def.runtime;
}

/** Platforms a target is built for. */
export function platformsOf(def: ImageDefinition, target: string): string[] {
  return def.targets[target]?.platforms ?? def.platforms;
}

/** A side of a diff from a store and one of its images. */
export function sideOf(label: string, store: OciStore, image: Awaited<ReturnType<OciStore["require"]>>): ImageSide {
  return { label, image, openBlob: (b) => store.openBlob(b), verifyBlob: (b) => store.verifyBlob(b), readJson: (b) => store.readJson(b) };
}

/** Opens an OCI layout folder (never creating one) and picks its image. */
async function openLayoutArg(spec: string): Promise<ImageSide> {
  const at = spec.lastIndexOf("@sha256:");
  const dir = path.resolve(at < 0 ? spec : spec.slice(0, at));
  const digest = at < 0 ? undefined : spec.slice(at + 1);
  const isLayout = await fs.access(path.join(dir, "oci-layout")).then(
    () => true,
    () => false,
  );
  if (!isLayout) throw new KilnError(`oci:${spec}: ${dir} is not an OCI image layout (no oci-layout file)`);
  const store = await OciStore.open(dir);
  if (digest) return sideOf(`oci:${spec}`, store, await store.require(digest));
  const idx = await store.index();
  if (idx.manifests.length !== 1) {
    throw new KilnError(`oci:${spec}: the layout holds ${idx.manifests.length} images`, `name one: oci:${spec}@sha256:...`);
  }
  return sideOf(`oci:${spec}`, store, await store.require(idx.manifests[0]!.digest));
}

/**
 * Resolves what the user typed. Catalog names without a target use the
 * definition's default target (`debian` -> `debian:image`).
 */
export async function openImageArg(arg: string, store: OciStore, root?: string): Promise<ImageSide> {
  if (arg.startsWith("oci:")) return openLayoutArg(arg.slice(4));
  const direct = await store.resolve(arg);
  if (direct) return sideOf(arg, store, direct);
  if (/^[a-z0-9][a-z0-9-]*$/.test(arg)) {
    const loaded = await loadImage(arg, root).catch(() => undefined);
    if (loaded) {
      const ref = `${arg}:${defaultTargetOf(loaded)}`;
      const found = await store.resolve(ref);
      if (found) return sideOf(ref, store, found);
    }
  }
  throw new KilnError(`image ${arg} is not in the local store (${store.dir})`, `build it first (kiln build ${arg.split(":")[0]}), or name a digest or oci:PATH`);
}
