/**
 * What `kiln build`, `kiln build --dry-run` and `kiln plan` check for one image before anything runs,
 * the same for all three: the definition loads, its Dockerfile exists, its lock pins what it declares,
 * its parents are in the store (else the line that builds them).
 */
import { requireParentsInStore } from "../catalog/with-parents.ts";
import { loadImage } from "../definition/catalog.ts";
import { readLock } from "../lock/io.ts";
import type { OciStore } from "../oci/store.ts";
import { checkBuildable } from "../plan/checks.ts";
import { splitRef } from "../plan/plan.ts";
import type { Settings } from "../settings/schema.ts";

export async function preflight(userRef: string, ctx: { settings: Settings; store: OciStore }): Promise<void> {
  const image = await loadImage(splitRef(userRef).image);
  await requireParentsInStore(userRef, ctx);
  await checkBuildable(image, await readLock(image.dir));
}
