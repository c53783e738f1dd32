/**
 * `kiln sign` and `kiln verify-signature`: a pushed image is resolved to the
 * digest its registry serves, and that digest, never a tag, is signed or
 * verified with cosign and the site's key. Signatures live beside the image
 * (`REGISTRY/NAME:sha256-<hex>.sig`, cosign's tag scheme).
 */
import path from "node:path";
import { KilnError } from "../errors.ts";
import { isInsecureRegistry, remoteDigest, writeAuthFile } from "../oci/registry.ts";
import type { Settings } from "../settings/schema.ts";
import { run } from "../util/run.ts";
import { withTempDir } from "../util/temp.ts";
import { checkVerifiedPayloads, cosignEnv, signArgs, signFailure, verifyArgs, verifyFailure } from "./cosign.ts";
import { signingKeyFrom, verificationKeyFrom } from "./keys.ts";
import { byDigest, formatPushedRef, parsePushedRef, signatureTag, type PushedRef } from "./reference.ts";

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

export async function signImage(image: string, settings: Settings): Promise<SignatureResult> {
  const key = await signingKeyFrom(settings);
  return withResolved(image, settings, async (r) => {
    const signed = byDigest(r.pushed, r.digest);
    const result = await run("cosign", signArgs(key.key, signed, r.insecure), { what: `sign ${signed}`, env: r.env, input: key.password, allowFailure: true });
    if (result.code !== 0) throw new KilnError(`signing ${subject(r)} with key ${key.key} failed: ${signFailure(result.stderr, r.pushed.host)}`, "nothing was signed");
    return { ref: image, digest: r.digest, signed, key: key.key, signatureTag: signatureTag(r.pushed, r.digest) };
  });
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
    const result = await run("cosign", verifyArgs(publicKey, signed, r.insecure), { what: `verify ${signed}`, env: r.env, allowFailure: true });
    if (result.code !== 0) fail(verifyFailure(result.stderr, r.pushed.host));
    const checked = checkVerifiedPayloads(result.stdout.toString(), r.digest);
    if ("problem" in checked) return fail(checked.problem);
    return { ref: image, digest: r.digest, signed, key: publicKey, signatureTag: signatureTag(r.pushed, r.digest), signatures: checked.count };
  });
}
