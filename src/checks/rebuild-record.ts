/**
 * What `kiln rebuild` takes from a registry before it runs anything: the
 * build record of a lock attachment (image, target, platforms, build args,
 * catalog URL and revision) and the catalog URL it would clone. Anyone who
 * can push can write these, so every field is checked against what kiln
 * itself would have written, and the URL against the transports kiln allows.
 * Pure: nothing here touches the network or git.
 */
import type { BuildRecord } from "../build/attachments.ts";
import { SUPPORTED_PLATFORMS } from "../definition/schema.ts";
import { KilnError } from "../errors.ts";

/** A definition's name and its targets' names (src/definition/schema.ts). */
const DEFINITION_NAME = /^[a-z0-9][a-z0-9-]*$/;
const COMMIT = /^[0-9a-f]{40}$/;
const BUILD_ARG = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The transports a recorded catalog URL may use; `file:` (and local paths) only when the user names them. */
export const REMOTE_SCHEMES = ["https", "ssh", "git"] as const;

/** Refuses a build record with any field kiln would not have written; `where` names the attachment. */
export function checkBuildRecord(record: BuildRecord, where: string): void {
  const bad = (field: string, value: string, why: string): never => {
    throw new KilnError(`the lock attached to ${where} records ${field} ${JSON.stringify(value)}: ${why}`, "nothing was cloned or run; this attachment was not written by kiln build");
  };
  if (!DEFINITION_NAME.test(record.image)) bad("the image", record.image, "not a definition name (lowercase letters, digits and dashes)");
  if (!DEFINITION_NAME.test(record.target)) bad("the target", record.target, "not a target name (lowercase letters, digits and dashes)");
  for (const p of record.platforms) if (!(SUPPORTED_PLATFORMS as readonly string[]).includes(p)) bad("the platform", p, `not one kiln builds (${SUPPORTED_PLATFORMS.join(", ")})`);
  for (const [name, value] of Object.entries(record.buildArgs ?? {})) {
    if (!BUILD_ARG.test(name)) bad("the build arg", name, "not a build arg name");
    if (typeof value !== "string") bad(`the build arg ${name}`, String(value), "not a string");
  }
  const revision = record.revision;
  if (revision && !COMMIT.test(revision.commit)) bad("the revision", revision.commit, "not a full commit id (40 hex digits)");
  if (revision?.source) {
    const why = catalogUrlProblem(revision.source, false);
    if (why) bad("the catalog URL", revision.source, why);
  }
}

/** The scheme of a URL (`https`), or undefined for a local path or an scp-like `host:path`. */
function schemeOf(url: string): string | undefined {
  return /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
}

/**
 * Why `url` may not be cloned, or undefined when it may. From a lock
 * attachment only https, ssh and git URLs; from the command line also
 * `file://` URLs, local paths and scp-like `host:path`. Never anything git
 * could read as an option, and no control characters.
 */
export function catalogUrlProblem(url: string, fromCommandLine: boolean): string | undefined {
  if (!url) return "empty";
  if (url.startsWith("-")) return "it starts with -, which git would read as an option";
  if (/[\x00-\x20\x7f]/.test(url)) return "it holds white space or control characters";
  const scheme = schemeOf(url);
  // ssh://-oProxyCommand=...: a host (or user) that ssh would read as an option.
  if (scheme && /^(?:[^@/]*@)?-/.test(url.slice(scheme.length + 3))) return "its host starts with -, which ssh would read as an option";
  if (scheme && (REMOTE_SCHEMES as readonly string[]).includes(scheme)) return undefined;
  if (!fromCommandLine) return `only ${REMOTE_SCHEMES.join(", ")} URLs are cloned from what an attachment says (a file: URL or local path only when named with --catalog)`;
  if (scheme === "file" || scheme === undefined) return undefined;
  return `the ${scheme}: transport is not allowed (${[...REMOTE_SCHEMES, "file"].join(", ")}, a local path or host:path)`;
}

/** A revision named on the command line: anything git takes as a commit-ish, but never an option. */
export function revisionProblem(revision: string): string | undefined {
  if (!revision) return "empty";
  if (revision.startsWith("-")) return "it starts with -, which git would read as an option";
  if (/[\x00-\x20\x7f]/.test(revision)) return "it holds white space or control characters";
  return undefined;
}

/**
 * Whether `url` is one of the site's trusted catalogs (settings
 * `rebuild.trustedCatalogs`, URL prefixes). A prefix matches whole path
 * segments: `https://git.example/kiln` covers `https://git.example/kiln` and
 * `https://git.example/kiln/...`, not `https://git.example/kiln-evil`.
 */
export function isTrustedCatalog(url: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => p !== "" && (url === p || (url.startsWith(p) && (p.endsWith("/") || p.endsWith(":") || url[p.length] === "/"))));
}

/** Whether git reaches `url` through its file transport: a `file://` URL or a local path (scp-like `host:path` is ssh). */
export function isFileTransport(url: string): boolean {
  const scheme = schemeOf(url);
  if (scheme) return scheme === "file";
  const colon = url.indexOf(":");
  const slash = url.indexOf("/");
  return colon < 0 || (slash >= 0 && slash < colon);
}
