/**
 * `kiln sign` and `kiln verify-signature`: a pushed image is resolved to the
 * digest its registry serves, and that digest, never a tag, is signed or
 * verified with cosign and the site's key. Signatures live beside the image
 * (`REGISTRY/NAME:sha256-<hex>.sig`, cosign's tag scheme).
 *
 * Signing covers what users rely on: the image, and each attachment kiln
 * made for it (the lock with its build record, the SBOMs), one cosign
 * signature per attachment digest. Signing takes only an image kiln built
 * and stored here (built.ts); verification checks the image and every
 * attachment the registry lists, and says which are covered.
 */
import path from "node:path";
import { PLATFORM_ANNOTATION } from "../build/attachments.ts";
import { KilnError } from "../errors.ts";
import { remoteReferrers } from "../oci/oras.ts";
import type { Referrer } from "../oci/referrers.ts";
import { isInsecureRegistry, remoteDigest, writeAuthFile } from "../oci/registry.ts";
import type { Settings } from "../settings/schema.ts";
import { run } from "../util/run.ts";
import { withTempDir } from "../util/temp.ts";
import { builtImage } from "./built.ts";
import { checkVerifiedPayloads, cosignEnv, signArgs, signFailure, verifyArgs, verifyFailure } from "./cosign.ts";
import { signingKeyFrom, verificationKeyFrom, type SigningKey } from "./keys.ts";
import { byDigest, formatPushedRef, parsePushedRef, signatureTag, type PushedRef } from "./reference.ts";

/** One attachment of the image: what it is, and whether a signature by the site's key covers it. */
export interface AttachmentCoverage {
  digest: string;
  artifactType: string;
  platform?: string;
  /** sign: signed now; verify: a stored signature by the key verifies for it. */
  covered: boolean;
  /** Why not, when not covered. */
  problem?: string;
  signatures?: number;
}

export interface SignatureResult {
  /** The reference as given. */
  ref: string;
  /** The digest the registry served for it, the one signed or verified. */
  digest: string;
  /** `REGISTRY/NAME@sha256:...`. */
  signed: string;
  /** The signing key (sign) or public key (verify): file path or KMS URI. */
  key: string;
  /** Where the signatures are stored. */
  signatureTag: string;
  /** verify: how many stored signatures verified. */
  signatures?: number;
  /** The image's attachments: sign, those kiln made and signed; verify, every one the registry lists. */
  attachments: AttachmentCoverage[];
  /** sign: attachments the registry lists that kiln did not make for this image: left unsigned. */
  foreign?: AttachmentCoverage[];
}

interface Resolved {
  pushed: PushedRef;
  digest: string;
  insecure: boolean;
  env: NodeJS.ProcessEnv;
}

/**
 * Runs `fn` with the image resolved to its digest and cosign's environment,
 * inside a private folder holding the registry credentials, removed afterwards.
 */
function withResolved<T>(image: string, settings: Settings, fn: (r: Resolved) => Promise<T>): Promise<T> {
  const pushed = parsePushedRef(image);
  const insecure = isInsecureRegistry(pushed.host, settings);
  return withTempDir(
    "kiln-sign-",
    async (tmp) => {
      const authFile = await writeAuthFile(tmp, pushed.host, settings);
      const digest = await remoteDigest(formatPushedRef(pushed), { insecure, authFile });
      return fn({ pushed, digest, insecure, env: cosignEnv(process.env, authFile && path.dirname(authFile)) });
    },
    { mode: 0o700 },
  );
}

/** How a digest was reached from what the user named: `REF (tag T is sha256:...)` for a tag. */
function subject(r: Resolved): string {
  const signed = byDigest(r.pushed, r.digest);
  return r.pushed.digest ? signed : `${signed} (tag ${r.pushed.tag})`;
}

function describeAttachment(r: Referrer, covered: boolean, extra: Partial<AttachmentCoverage> = {}): AttachmentCoverage {
  const platform = r.annotations?.[PLATFORM_ANNOTATION];
  return { digest: r.digest, artifactType: r.artifactType, ...(platform ? { platform } : {}), covered, ...extra };
}

/** `application/spdx+json (linux/amd64) sha256:...`: an attachment as messages name it. */
export function attachmentLabel(a: Pick<AttachmentCoverage, "digest" | "artifactType" | "platform">): string {
  return `${a.artifactType}${a.platform ? ` (${a.platform})` : ""} ${a.digest}`;
}

/** One `cosign sign`; `before`: how many signatures this run pushed already (a failure says so). */
async function cosignSign(key: SigningKey, digestRef: string, r: Resolved, before: number): Promise<void> {
  const result = await run("cosign", signArgs(key.key, digestRef, r.insecure), { what: `sign ${digestRef}`, env: r.env, input: key.password, allowFailure: true });
  if (result.code !== 0) {
    const hint = before === 0 ? "nothing was signed" : `${before} attachment signature${before > 1 ? "s were" : " was"} pushed before it, the image itself is not signed: run kiln sign again once this is fixed`;
    throw new KilnError(`signing ${digestRef === byDigest(r.pushed, r.digest) ? subject(r) : digestRef} with key ${key.key} failed: ${signFailure(result.stderr, r.pushed.host)}`, hint);
  }
}

/**
 * Signs the image and each attachment kiln made for it. Everything is
 * checked first (the digest is kiln's, the registry holds every attachment);
 * the attachments are signed before the image, so that a signed image
 * always has signed attachments.
 */
export async function signImage(image: string, settings: Settings): Promise<SignatureResult> {
  const key = await signingKeyFrom(settings);
  return withResolved(image, settings, async (r) => {
    const built = await builtImage(r.pushed, r.digest, settings);
    const remote = await remoteReferrers(r.pushed.repository, r.digest, settings);
    const missing = built.attachments.filter((a) => !remote.some((x) => x.digest === a.digest));
    if (missing.length) {
      throw new KilnError(`${subject(r)}: the registry lacks ${missing.length} of the ${built.attachments.length} attachments kiln made for it (${missing.map((m) => attachmentLabel(describeAttachment(m, false))).join(", ")})`, "nothing was signed; push the image again (kiln build IMAGE --push) so that its attachments travel with it");
    }
    for (const [i, a] of built.attachments.entries()) await cosignSign(key, byDigest(r.pushed, a.digest), r, i);
    const signed = byDigest(r.pushed, r.digest);
    await cosignSign(key, signed, r, built.attachments.length);
    const foreign = remote.filter((x) => !built.attachments.some((a) => a.digest === x.digest)).map((x) => describeAttachment(x, false, { problem: "not made by kiln for this image: not signed" }));
    return {
      ref: image,
      digest: r.digest,
      signed,
      key: key.key,
      signatureTag: signatureTag(r.pushed, r.digest),
      attachments: built.attachments.map((a) => describeAttachment(a, true)),
      ...(foreign.length ? { foreign } : {}),
    };
  });
}

/** Verifies the signatures stored for one digest of the image's repository: their count, or why they do not hold. */
async function verifyDigest(publicKey: string, digest: string, r: Resolved): Promise<{ count: number } | { problem: string }> {
  const ref = byDigest(r.pushed, digest);
  const result = await run("cosign", verifyArgs(publicKey, ref, r.insecure), { what: `verify ${ref}`, env: r.env, allowFailure: true });
  if (result.code !== 0) return { problem: verifyFailure(result.stderr, r.pushed.host) };
  return checkVerifiedPayloads(result.stdout.toString(), digest);
}

export async function verifyImageSignature(image: string, settings: Settings): Promise<SignatureResult> {
  const publicKey = await verificationKeyFrom(settings);
  return withResolved(image, settings, async (r) => {
    const signed = byDigest(r.pushed, r.digest);
    const fail = (why: string): never => {
      // Registry trouble says nothing about the image: only a check that ran and failed warns against running it.
      const hint = why.startsWith("the registry ") ? "run it again once the registry answers" : "do not run this image; if it was pushed again on purpose, sign the new digest with `kiln sign`";
      throw new KilnError(`signature check failed for ${subject(r)}: ${why}; key ${publicKey}`, hint);
    };
    const checked = await verifyDigest(publicKey, r.digest, r);
    if ("problem" in checked) return fail(checked.problem);
    const attachments: AttachmentCoverage[] = [];
    for (const a of await remoteReferrers(r.pushed.repository, r.digest, settings)) {
      const c = await verifyDigest(publicKey, a.digest, r);
      attachments.push("problem" in c ? describeAttachment(a, false, { problem: c.problem }) : describeAttachment(a, true, { signatures: c.count }));
    }
    const uncovered = attachments.filter((a) => !a.covered);
    if (uncovered.length) {
      throw new KilnError(
        `signature check failed for the attachments of ${subject(r)}: the image is signed, but ${uncovered.length} of its ${attachments.length} attachments are not covered by key ${publicKey} (${uncovered.map((a) => `${attachmentLabel(a)}: ${a.problem}`).join("; ")}); covered: ${attachments.length - uncovered.length}`,
        "do not trust the uncovered attachments (a lock or SBOM anyone could have attached); if kiln made them, sign the image again with `kiln sign`",
      );
    }
    return { ref: image, digest: r.digest, signed, key: publicKey, signatureTag: signatureTag(r.pushed, r.digest), signatures: checked.count, attachments };
  });
}

/**
 * Whether one attachment of `repository` (by digest) carries a signature by
 * the site's key: what lets `kiln rebuild` believe the build record in it.
 * A site without a verification key covers nothing.
 */
export async function attachmentSignedBySite(repository: string, digest: string, settings: Settings): Promise<{ covered: true; key: string } | { covered: false; why: string }> {
  const { publicKey, key } = settings.signing;
  if (!publicKey && !key) return { covered: false, why: "the site has no signing.publicKey to check a signature with" };
  const verificationKey = await verificationKeyFrom(settings);
  return withResolved(`${repository}@${digest}`, settings, async (r) => {
    const c = await verifyDigest(verificationKey, digest, r);
    return "problem" in c ? { covered: false, why: `${c.problem} (key ${verificationKey})` } : { covered: true, key: verificationKey };
  });
}
