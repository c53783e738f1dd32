/**
 * Opening the store for commands that only read it (`ls`, `status`, `plan`, `test`, `lock --check`,
 * `site`): a missing store is an error naming its path and where that path came from, never a new
 * empty store, which would show every image "never built" for a mistyped KILN_STORE.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import { OciStore } from "../oci/store.ts";
import { storeDir } from "../paths.ts";
import type { Settings } from "../settings/schema.ts";

/** Where the store's path came from, as the user can check it. */
export function storeOrigin(settings: Pick<Settings, "store">, env: NodeJS.ProcessEnv = process.env): string {
  if (settings.store === undefined) return `the default, ${env.XDG_DATA_HOME ? "$XDG_DATA_HOME" : "~/.local/share"}/kiln/store`;
  if (env.KILN_STORE !== undefined && path.resolve(env.KILN_STORE) === path.resolve(settings.store)) return "KILN_STORE";
  return "settings `store`";
}

/** `fix`: what to build into a missing store (default: the generic with-parents line). */
export async function openExistingStore(settings: Pick<Settings, "store">, fix?: () => Promise<string>, env: NodeJS.ProcessEnv = process.env): Promise<OciStore> {
  const dir = storeDir(settings);
  const present = await fs.access(path.join(dir, "index.json")).then(
    () => true,
    () => false,
  );
  if (!present) {
    throw new KilnError(`no store at ${dir} (from ${storeOrigin(settings, env)})`, `check that path, or build into it first: ${fix ? await fix() : "kiln build IMAGE --with-parents"}`);
  }
  return OciStore.open(dir);
}
