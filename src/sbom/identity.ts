/** Names both formats give the image and the document, derived from content: no clock, no randomness. */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { PackageURL } from "packageurl-js";
import type { SbomParent } from "./inventory.ts";

const version = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

export const KILN_TOOL = `Tool: kiln-${version}`;
export const KILN_VERSION = version;

/** The RFC 4122 URL namespace. */
const URL_NAMESPACE = Buffer.from("6ba7b8119dad11d180b400c04fd430c8", "hex");

/** A name-based (version 5) UUID: the same name always gives the same UUID. */
export function derivedUuid(name: string): string {
  const b = createHash("sha1").update(URL_NAMESPACE).update(name, "utf8").digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `pkg:oci/router@sha256:...?arch=amd64`: an image by digest (catalog name without the target). */
export function ociPurl(ref: string, digest: string, platform?: string): string {
  const arch = platform?.split("/")[1];
  return new PackageURL("oci", undefined, ref.split(":")[0]!, digest, arch ? { arch } : undefined, undefined).toString();
}

/**
 * The digest a parent is named by: the platform's manifest for the image it is
 * built on; the whole index for a build stage (which runs on the build
 * platform, whichever platform is being built).
 */
export function parentDigest(p: SbomParent): string {
  return p.base && p.manifest ? p.manifest : p.index;
}
