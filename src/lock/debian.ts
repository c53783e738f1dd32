/**
 * Debian packages in the lock: resolution and preparation are the Debian
 * room's (src/debian); this adapter only maps a definition onto its calls.
 */
import type { LoadedImage } from "../definition/catalog.ts";
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import type { DebianLock } from "./schema.ts";

export async function resolveDebianInput(image: LoadedImage, _settings: Settings, _opts: { snapshot?: string; previous?: DebianLock }): Promise<DebianLock> {
  throw new KilnError(`${image.name}: Debian package resolution is not available yet`);
}

export async function prepareDebianInput(req: { image: LoadedImage }, _lock: unknown): Promise<{ contextDir?: string; namedContexts: Record<string, string> }> {
  throw new KilnError(`${req.image.name}: preparing Debian packages is not available yet`);
}
