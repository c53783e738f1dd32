/**
 * The keys the site settings name for signing and verifying, checked before
 * anything is asked of a registry: a key file must be readable, a KMS URI
 * goes to cosign as written, the password comes from a file only.
 */
import fs from "node:fs/promises";
import { KilnError } from "../errors.ts";
import { isKmsUri, type Settings } from "../settings/schema.ts";
import { passwordInput } from "./cosign.ts";

const DOCS = "docs/supply-chain.md#signatures";

export interface SigningKey {
  /** What cosign gets as `--key`: the key file's path or the KMS URI. */
  key: string;
  /** What cosign reads on standard input (the key file's password); undefined for a KMS key. */
  password?: Buffer;
}

async function readable(key: string, file: string): Promise<void> {
  await fs.access(file, fs.constants.R_OK).catch((e: NodeJS.ErrnoException) => {
    throw new KilnError(`cannot read ${key} ${file}: ${e.code ?? e.message}`, `fix ${key} in the site settings (${DOCS})`);
  });
}

export async function signingKeyFrom(settings: Settings): Promise<SigningKey> {
  const { key, passwordFile } = settings.signing;
  if (!key) {
    throw new KilnError("no signing key: signing.key is not set in the site settings", `create one with \`cosign generate-key-pair\` and set signing.key and signing.passwordFile (${DOCS})`);
  }
  if (isKmsUri(key)) {
    if (passwordFile) throw new KilnError(`signing.passwordFile is set, but signing.key is a KMS URI (${key}), which has no password`, "unset signing.passwordFile");
    return { key };
  }
  await readable("signing.key", key);
  if (!passwordFile) return { key, password: Buffer.alloc(0) };
  const password = await fs.readFile(passwordFile).catch((e: NodeJS.ErrnoException) => {
    throw new KilnError(`cannot read signing.passwordFile ${passwordFile}: ${e.code ?? e.message}`, `fix signing.passwordFile in the site settings (${DOCS})`);
  });
  return { key, password: passwordInput(password) };
}

/** The public key to verify with: signing.publicKey, else a KMS signing.key (a key file's public half is its own file). */
export async function verificationKeyFrom(settings: Settings): Promise<string> {
  const { key, publicKey } = settings.signing;
  const chosen = publicKey ?? (key && isKmsUri(key) ? key : undefined);
  if (!chosen) {
    throw new KilnError(
      "no key to verify with: signing.publicKey is not set in the site settings",
      `set it to the public key file (the .pub that \`cosign generate-key-pair\` wrote beside the key) or a KMS URI (${DOCS})`,
    );
  }
  if (!isKmsUri(chosen)) await readable("signing.publicKey", chosen);
  return chosen;
}
