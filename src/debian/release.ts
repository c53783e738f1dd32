/**
 * Signed Release files: InRelease is checked with gpgv against the Debian
 * archive keyring and only the text gpgv vouches for is parsed; index hashes
 * come from that text and nowhere else.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { KilnError } from "../errors.ts";
import { parseDeb822 } from "./deb822.ts";

const run = promisify(execFile);

export const DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

export interface ReleaseInfo {
  suite: string;
  codename: string;
  /** RFC 2822 date as written. */
  date: string;
  validUntil?: string;
  /** path (e.g. `main/binary-amd64/Packages.xz`) -> hash and size */
  sha256: Map<string, { sha256: string; size: number }>;
}

/**
 * Returns the signed text of an InRelease file, or throws when gpgv does not
 * accept its signature with `keyring`. `what` names the file in errors.
 */
export async function verifyInRelease(inRelease: Buffer, what: string, keyring = DEBIAN_KEYRING): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-gpgv-"));
  try {
    const input = path.join(dir, "InRelease");
    const output = path.join(dir, "Release");
    await fs.writeFile(input, inRelease);
    try {
      await run("gpgv", ["--quiet", "--keyring", keyring, "--output", output, input]);
    } catch (e) {
      const detail = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split("\n").pop();
      throw new KilnError(`${what}: signature check failed (${detail})`, `the mirror served a file not signed by a key in ${keyring}; check the mirror setting`);
    }
    return await fs.readFile(output, "utf8");
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function parseRelease(text: string): ReleaseInfo {
  const [p] = parseDeb822(text);
  if (!p || !p.Date || !p.SHA256) throw new Error("Release file without Date or SHA256");
  const sha256 = new Map<string, { sha256: string; size: number }>();
  for (const line of p.SHA256.split("\n")) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3) continue;
    const [hex, size, file] = parts as [string, string, string];
    sha256.set(file, { sha256: hex, size: Number(size) });
  }
  return { suite: p.Suite ?? "", codename: p.Codename ?? "", date: p.Date, validUntil: p["Valid-Until"], sha256 };
}

/** `Sat, 15 Nov 2025 09:12:34 UTC` -> `20251115T091234Z` (snapshot.debian.org format). */
export function snapshotFromDate(date: string): string {
  const d = new Date(date);
  if (Number.isNaN(d.getTime())) throw new Error(`bad Release date ${JSON.stringify(date)}`);
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}
