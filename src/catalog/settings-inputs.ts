/**
 * The part of the site settings and of the command line that reaches one
 * image's build, as hashes: each secret the build mounts in its rendered form
 * (so editing a CA file or a proxy counts, for the images that mount it),
 * --add-host entries and extra build args. Settings that reach no build
 * (registries, store, cache) are not inputs: changing them rebuilds nothing.
 */
import type { ImageDefinition } from "../definition/schema.ts";
import { stableStringify } from "../lock/schema.ts";
import { renderSecrets } from "../settings/secrets.ts";
import type { Settings } from "../settings/schema.ts";
import { hashBytes } from "../util/cas.ts";

export function settingsInputs(settings: Settings, def: ImageDefinition, buildArgs: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  // The same ids a build renders: the definition's site secrets plus every extra secret of the settings.
  const rendered = renderSecrets(settings, [...def.secrets, ...Object.keys(settings.secrets)]);
  for (const [id, content] of Object.entries(rendered)) out[`secret ${id}`] = hashBytes(content);
  if (Object.keys(settings.hosts).length) out.hosts = hashBytes(stableStringify(settings.hosts));
  if (Object.keys(buildArgs).length) out["build args"] = hashBytes(stableStringify(buildArgs));
  return out;
}
