/**
 * What a definition declares as external inputs, in the shape the lock pins
 * them: the one view shared by resolving, checking and preparing, so the three
 * can never disagree on what "declared" means.
 */
import type { LoadedImage } from "../definition/catalog.ts";
import type { ImageDefinition, Platform } from "../definition/schema.ts";
import { downloadUrls } from "./download.ts";

export type InputKind = "debian" | "git" | "url" | "image" | "source" | "npm";
export const INPUT_KINDS: readonly InputKind[] = ["debian", "git", "url", "image", "source", "npm"];

/** Every platform any target of the image builds for: the lock covers all of them. */
export function imagePlatforms(def: ImageDefinition): Platform[] {
  const all = new Set<Platform>(def.platforms);
  for (const t of Object.values(def.targets)) for (const p of t.platforms ?? []) all.add(p);
  return [...all].sort();
}

export function debianArchitectures(platforms: readonly string[]): string[] {
  return [...new Set(platforms.map((p) => p.split("/")[1]!))].sort();
}

export interface DeclaredDownload {
  algorithm: "sha256" | "sha512";
  /** lock key (`any` or a platform) -> URL */
  urls: Record<string, string>;
  signature?: { url: string; fingerprint: string };
}

export function declaredDownloads(image: LoadedImage): Record<string, DeclaredDownload> {
  const platforms = imagePlatforms(image.def);
  return Object.fromEntries(
    Object.entries(image.def.inputs.downloads).map(([name, d]) => [name, { algorithm: d.algorithm, urls: downloadUrls(d, platforms), signature: d.signature }]),
  );
}

/** `GIT_CADDY_SRC_COMMIT`-style names: upper case, anything else becomes `_`. */
export function argName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}
