/**
 * The image `kiln sign` and `kiln verify-signature` take: a reference to a
 * pushed image, `REGISTRY/NAME:TAG` or `REGISTRY/NAME@sha256:...`. Pure.
 */
import { KilnError } from "../errors.ts";

export interface PushedRef {
  /** `REGISTRY/NAME`. */
  repository: string;
  /** `REGISTRY` (host[:port]), for credentials and TLS settings. */
  host: string;
  tag?: string;
  /** When given, the reference is pinned: a tag beside it is ignored. */
  digest?: string;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const NAME_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** A registry host as Docker tells it from a first path component: with a dot or a port, or localhost. */
const HOST = /^(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|[A-Za-z0-9-]+(?=:)|\[[0-9A-Fa-f:]+\])(?::\d+)?$/;

const EXAMPLE = "e.g. 127.0.0.1:5000/kiln/router:latest or 127.0.0.1:5000/kiln/router@sha256:...";

export function parsePushedRef(ref: string): PushedRef {
  const bad = (why: string, hint = `name it as it was pushed, ${EXAMPLE}`): never => {
    throw new KilnError(`${ref} is not a pushed image reference: ${why}`, hint);
  };
  const [nameTag, digest, ...extra] = ref.split("@");
  if (extra.length) bad("more than one @");
  if (digest !== undefined && !DIGEST.test(digest)) bad(`${digest} is not a sha256 digest (sha256: and 64 hex digits)`);
  const slash = nameTag!.indexOf("/");
  const host = slash > 0 ? nameTag!.slice(0, slash) : "";
  if (!HOST.test(host)) {
    bad("it names no registry", `push it first (kiln build IMAGE --push) and name it as pushed, ${EXAMPLE}`);
  }
  const rest = nameTag!.slice(slash + 1);
  const colon = rest.lastIndexOf(":");
  const name = colon >= 0 ? rest.slice(0, colon) : rest;
  const tag = colon >= 0 ? rest.slice(colon + 1) : undefined;
  if (!name || !name.split("/").every((c) => NAME_COMPONENT.test(c))) bad(`${name || "(empty)"} is not a repository name (lower-case components separated by /)`);
  if (tag !== undefined && !TAG.test(tag)) bad(`${tag} is not a tag`);
  if (tag === undefined && digest === undefined) bad("it names no tag or digest", `add :TAG or @sha256:..., ${EXAMPLE}`);
  return { repository: `${host}/${name}`, host, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** `REGISTRY/NAME@sha256:...`: what is signed and verified, never a tag. */
export function byDigest(ref: PushedRef, digest: string): string {
  return `${ref.repository}@${digest}`;
}

/** How the user named it: `REGISTRY/NAME:TAG` or `REGISTRY/NAME@sha256:...`. */
export function formatPushedRef(ref: PushedRef): string {
  return ref.digest ? byDigest(ref, ref.digest) : `${ref.repository}:${ref.tag}`;
}

/** Where cosign keeps the signatures of a digest: the tag `sha256-<hex>.sig` beside the image. */
export function signatureTag(ref: PushedRef, digest: string): string {
  return `${ref.repository}:${digest.replace(":", "-")}.sig`;
}
