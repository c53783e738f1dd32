/**
 * What a build refuses before the engine runs, checked without running it, so that `kiln plan` and
 * `kiln build --dry-run` fail where `kiln build` would: a Dockerfile that is not there, a lock that
 * does not pin exactly what the definition declares.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { LoadedImage } from "../definition/catalog.ts";
import { KilnError } from "../errors.ts";
import { lockRefusal } from "../lock/check.ts";
import type { Lock } from "../lock/schema.ts";

/** `catalogBuild`: checked for a catalog build, which pins parents itself before each child builds. */
export async function checkBuildable(image: LoadedImage, lock: Lock | undefined, opts: { catalogBuild?: boolean } = {}): Promise<void> {
  const dockerfile = path.resolve(image.dir, image.def.dockerfile);
  const isFile = await fs.stat(dockerfile).then((s) => s.isFile(), () => false);
  if (!isFile) {
    const rel = path.relative(process.cwd(), image.file) || image.file;
    throw new KilnError(`${rel}: dockerfile: ${path.relative(process.cwd(), dockerfile) || dockerfile} does not exist`, `create it, or set dockerfile: to the Dockerfile's path relative to ${path.relative(process.cwd(), image.dir) || "."}`);
  }
  const refused = await lockRefusal(image, lock, opts.catalogBuild ? ["image"] : []);
  if (refused) throw refused;
}
