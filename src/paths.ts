/** Where kiln keeps its state, following the XDG base directory convention. */
import os from "node:os";
import path from "node:path";
import type { Settings } from "./settings/schema.ts";

/** The local OCI image layout holding every image kiln built. */
export function storeDir(settings: Pick<Settings, "store">): string {
  const data = process.env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.resolve(settings.store ?? path.join(data, "kiln", "store"));
}

/** The content-addressed download cache (debs, URLs, git mirrors). */
export function cacheDir(settings: Pick<Settings, "cacheDir">): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.resolve(settings.cacheDir ?? path.join(cache, "kiln"));
}

/** The repository root: the folder holding `images/`. */
export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

/** The catalog kiln works on: `$KILN_CATALOG` (a folder holding `images/`), else this repository. */
export function catalogRoot(): string {
  return process.env.KILN_CATALOG ? path.resolve(process.env.KILN_CATALOG) : REPO_ROOT;
}
