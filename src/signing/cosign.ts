/**
 * cosign's command lines and what its answers mean. Pure: running it is
 * signatures.ts's concern.
 *
 * The transparency log stays off both ways (`--tlog-upload=false`,
 * `--insecure-ignore-tlog=true`): Rekor is a public service this site may not
 * reach, and a site key is trusted by being the site's, not by a log entry
 * (docs/supply-chain.md#signatures).
 */
import { registryProblem } from "../oci/registry.ts";

/** Plain HTTP and self-signed TLS, only for the registries the settings mark insecure. */
export function registryFlags(insecure: boolean): string[] {
  return insecure ? ["--allow-insecure-registry", "--allow-http-registry"] : [];
}

/** `cosign sign` of one digest reference with a key file or KMS URI. */
export function signArgs(key: string, digestRef: string, insecure: boolean): string[] {
  return ["sign", "--key", key, "--tlog-upload=false", "--yes", ...registryFlags(insecure), digestRef];
}

/** `cosign verify` of one digest reference against a public key file or KMS URI. */
export function verifyArgs(publicKey: string, digestRef: string, insecure: boolean): string[] {
  return ["verify", "--key", publicKey, "--insecure-ignore-tlog=true", "--output", "json", ...registryFlags(insecure), digestRef];
}

/**
 * The environment cosign runs with: kiln's, less every COSIGN_* variable (a
 * COSIGN_PASSWORD would win over the password file, a COSIGN_REPOSITORY would
 * move signatures away from the image), plus DOCKER_CONFIG when the site
 * has credentials for the registry.
 */
export function cosignEnv(env: NodeJS.ProcessEnv, dockerConfig?: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith("COSIGN_")) out[k] = v;
  if (dockerConfig) out.DOCKER_CONFIG = dockerConfig;
  return out;
}

/** A password file's text as cosign takes it on standard input: one trailing line break dropped. */
export function passwordInput(file: Buffer): Buffer {
  let end = file.length;
  if (end > 0 && file[end - 1] === 0x0a) end--;
  if (end > 0 && file[end - 1] === 0x0d) end--;
  return file.subarray(0, end);
}

/** cosign's own error line (`Error: ...`), else its last line. */
function cosignError(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  const error = lines.find((l) => l.startsWith("Error: ")) ?? lines.filter((l) => !l.startsWith("WARNING")).pop() ?? "";
  return error.replace(/^Error: /, "").replace(/^error during command execution: /, "");
}

/** Why `cosign sign` failed, as one phrase. */
export function signFailure(stderr: string, host: string): string {
  const msg = cosignError(stderr);
  if (/decrypt|encrypted: decryption failed/i.test(msg)) return "cannot decrypt the key with the password from signing.passwordFile (wrong password, or the file is not set)";
  if (/reading key|invalid pem|unsupported pem type/i.test(msg)) return `cannot read the key (${msg})`;
  return registryProblem(msg, host, "the signature upload") ?? (msg || "cosign failed");
}

/** Why `cosign verify` failed, as one phrase naming what did not hold. */
export function verifyFailure(stderr: string, host: string): string {
  const msg = cosignError(stderr);
  if (/loading public key|reading key|invalid pem|unsupported pem type/i.test(msg)) return `cannot read the public key (${msg})`;
  if (/no signatures found/i.test(msg)) return "no signature is stored for this digest";
  const claimed = /invalid or missing digest in claim:?\s*(sha256:[a-f0-9]{64})?/i.exec(msg);
  if (claimed) return `the stored signature is for another digest${claimed[1] ? ` (${claimed[1]})` : ""}`;
  if (/no matching signatures|invalid signature|verification error|signature mismatch/i.test(msg)) {
    return "no stored signature verifies with this key (signed with another key, or altered)";
  }
  return registryProblem(msg, host, "access") ?? (msg || "cosign failed");
}

interface SimpleSigningPayload {
  critical?: { image?: { "docker-manifest-digest"?: string }; type?: string };
}

/**
 * The payloads `cosign verify --output json` printed, checked once more here:
 * at least one, each naming exactly `digest`. Returns their count, or why not.
 */
export function checkVerifiedPayloads(stdout: string, digest: string): { count: number } | { problem: string } {
  let payloads: unknown;
  try {
    payloads = JSON.parse(stdout.trim().split("\n").filter(Boolean).pop() ?? "");
  } catch {
    return { problem: "cosign reported success but printed no signature payloads" };
  }
  if (!Array.isArray(payloads) || payloads.length === 0) return { problem: "cosign reported success but printed no signature payloads" };
  for (const p of payloads as SimpleSigningPayload[]) {
    const named = p?.critical?.image?.["docker-manifest-digest"];
    if (named !== digest) return { problem: `a verified signature names ${named ?? "no digest"}, not this digest` };
  }
  return { count: payloads.length };
}
