/**
 * Digest strings: the one shape kiln accepts (`sha256:` and 64 lowercase hex
 * digits). A digest names a file in the store, so anything else (`../x`,
 * `sha256:`, upper case, another algorithm) is refused where it enters, before
 * it is joined to a path or compared.
 */
import { KilnError } from "../errors.ts";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is string {
  return typeof value === "string" && DIGEST.test(value);
}

/** `value` when it is a digest; otherwise one line naming where it came from. */
export function requireDigest(value: unknown, where: string, hint = "a digest is sha256: followed by 64 lowercase hex digits"): string {
  if (isDigest(value)) return value;
  const shown = typeof value === "string" ? JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value) : String(value);
  throw new KilnError(`${where}: ${shown} is not a digest`, hint);
}

/** The 64 hex digits of a digest (after checking it is one). */
export function digestHex(value: string, where: string): string {
  return requireDigest(value, where).slice("sha256:".length);
}
