/**
 * Signed Release files: InRelease is checked with gpgv against the keyring
 * kiln pins (archive-keyring.ts), judged by gpgv's status lines, and only the
 * text gpgv vouches for is parsed; index hashes and sizes come from that text
 * and nowhere else.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import { run } from "../util/run.ts";
import { withTempDir } from "../util/temp.ts";
import type { PinnedKeyring } from "./archive-keyring.ts";
import { parseDeb822 } from "./deb822.ts";
import { judgeGpgvStatus } from "./gpgv-status.ts";

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
 * Returns the signed text of an InRelease file, or throws when its signatures
 * are not all good ones by keys of `keyring` (gpgv's status lines decide, not
 * its exit status). gpgv runs with an empty home, so no other keyring counts.
 * `what` names the file in errors.
 */
export async function verifyInRelease(inRelease: Buffer, what: string, keyring: PinnedKeyring): Promise<string> {
  return withTempDir("kiln-gpgv-", async (dir) => {
    const home = path.join(dir, "home");
    await fs.mkdir(home, { mode: 0o700 });
    const input = path.join(dir, "InRelease");
    const output = path.join(dir, "Release");
    await fs.writeFile(input, inRelease);
    const r = await run("gpgv", ["--homedir", home, "--status-fd", "1", "--keyring", keyring.path, "--output", output, input], { what: `check ${what}`, allowFailure: true });
    const verdict = judgeGpgvStatus(r.stdout.toString("utf8"));
    if (!verdict.ok) throw new KilnError(`${what}: signature refused: ${verdict.reason}`, `kiln trusts only good signatures by keys of ${keyring.name}; check the mirror setting`);
    if (r.code !== 0) throw new KilnError(`${what}: signature refused: gpgv exited ${r.code} (${r.stderr.trim().split("\n").pop()})`, "check the mirror setting");
    return fs.readFile(output, "utf8");
  });
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
