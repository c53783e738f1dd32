/**
 * A catalog build makes the parents its children are built from, so it also
 * pins them: before a child builds, its lock's parent pins are set to the
 * digests now in the store (the lock then says what the child was built on).
 * Only parent pins are touched; every other pin stays as it is.
 */
import type { LoadedImage } from "../definition/catalog.ts";
import { readLock, writeLock } from "../lock/io.ts";
import { resolveParent } from "../lock/resolve.ts";
import type { Lock } from "../lock/schema.ts";
import type { Settings } from "../settings/schema.ts";

/**
 * Re-pins the parents whose locked index digest differs from `current`
 * (context name -> index digest in the store); returns their names.
 * With `dryRun`, only says which would change.
 */
export async function pinParents(image: LoadedImage, current: Record<string, string | undefined>, settings: Settings, dryRun = false): Promise<string[]> {
  const lock = await readLock(image.dir);
  const changed = Object.keys(image.def.parents)
    .sort()
    .filter((name) => current[name] !== undefined && lock?.parents?.[name]?.index !== current[name]);
  if (changed.length === 0 || dryRun) return changed;
  const parents: NonNullable<Lock["parents"]> = { ...lock?.parents };
  for (const name of changed) parents[name] = await resolveParent(name, image.def.parents[name]!, { image, settings });
  await writeLock(image.dir, { ...(lock ?? { lockVersion: 1, image: image.name }), parents });
  return changed;
}
