/**
 * Detached signatures on downloads, checked with gpgv against one pinned key.
 * The definition names the key by fingerprint; the key itself lives next to
 * the definition in `keys/<FINGERPRINT>.asc` (or `.gpg`), reviewed in git like
 * any other source. A signature counts only when gpgv reports it valid AND the
 * signing key's primary fingerprint is the pinned one.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { KilnError } from "../errors.ts";
import { lastLine, runCommand } from "./command.ts";

export function normalizeFingerprint(fpr: string): string {
  return fpr.replace(/\s+/g, "").toUpperCase();
}

/** The key file for `fingerprint` in the image folder, or a KilnError saying where to put it. */
export async function findKeyFile(imageDir: string, fingerprint: string): Promise<string> {
  const fpr = normalizeFingerprint(fingerprint);
  for (const ext of [".asc", ".gpg", ".pgp"]) {
    const file = path.join(imageDir, "keys", fpr + ext);
    if (await fs.stat(file).then((s) => s.isFile(), () => false)) return file;
  }
  throw new KilnError(`signing key ${fpr} not found: expected ${path.join(imageDir, "keys", fpr + ".asc")}`, `export it with \`gpg --export --armor ${fpr} > keys/${fpr}.asc\` next to the definition`);
}

/** Verifies `sigFile` over `dataFile`; throws a KilnError naming the input when it does not hold. */
export async function verifyDetachedSignature(opts: { what: string; dataFile: string; sigFile: string; keyFile: string; fingerprint: string }): Promise<void> {
  const fpr = normalizeFingerprint(opts.fingerprint);
  const home = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-gpgv-"));
  try {
    let keyring = opts.keyFile;
    // gpgv reads binary keyrings only: de-armour an .asc key first.
    if ((await fs.readFile(opts.keyFile, "latin1")).startsWith("-----BEGIN PGP")) {
      keyring = path.join(home, "key.gpg");
      const res = await runCommand("gpg", ["--homedir", home, "--batch", "--yes", "--dearmor", "--output", keyring, opts.keyFile]);
      if (res.code !== 0) throw new KilnError(`${opts.keyFile} is not a usable OpenPGP key: ${lastLine(res.stderr)}`);
    }
    const res = await runCommand("gpgv", ["--homedir", home, "--status-fd", "1", "--keyring", keyring, opts.sigFile, opts.dataFile]);
    const valid = res.stdout.split("\n").find((l) => l.startsWith("[GNUPG:] VALIDSIG "));
    const primary = valid?.trim().split(" ").pop();
    if (res.code !== 0 || !valid) {
      throw new KilnError(`${opts.what}: signature does not verify with key ${fpr}: ${lastLine(res.stderr)}`, "the file or its signature changed upstream; check why before running `kiln refresh`");
    }
    if (primary !== fpr) throw new KilnError(`${opts.what}: signed by key ${primary}, expected ${fpr}`, "pin the right fingerprint in the definition");
  } finally {
    await fs.rm(home, { recursive: true, force: true });
  }
}
