/**
 * Which packages a minbase rootfs holds is decided by mmdebstrap and apt
 * themselves (essential set, then Priority: required + apt, with the merged-usr
 * hook), in one chrootless run against the mirror. The run's apt lists are
 * compared byte for byte with the InRelease files kiln verified, so the set
 * comes from exactly the signed indices the lock's hashes are taken from.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { KilnError } from "../errors.ts";
import type { VerifiedSuite } from "./indices.ts";

const run = promisify(execFile);

export const MERGED_USR_HOOKS = "/usr/share/mmdebstrap/hooks/merged-usr";

export interface InstalledPackage {
  name: string;
  version: string;
  architecture: string;
}

export function parseDpkgQuery(text: string): InstalledPackage[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => {
      const [name, version, architecture, status] = line.split("\t");
      if (!name || !version || !architecture) throw new Error(`unexpected dpkg-query line ${JSON.stringify(line)}`);
      return { name, version, architecture, status };
    })
    .filter((p) => p.status === undefined || p.status === "installed")
    .map(({ name, version, architecture }) => ({ name, version, architecture }));
}

export const DPKG_QUERY_FORMAT = "${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Status}\\n";

/**
 * Runs mmdebstrap once (chrootless, nothing kept) and returns the installed
 * set plus the folder of .debs apt downloaded (callers may verify and keep them).
 */
export async function resolveMinbaseSet(suites: VerifiedSuite[], arch: string, workDir: string, apt: { proxy?: string; userAgent?: string } = {}): Promise<{ installed: InstalledPackage[]; debsDir: string }> {
  const out = await fs.mkdtemp(path.join(workDir, `minbase-${arch}-`));
  const lists = path.join(out, "lists");
  const debs = path.join(out, "debs");
  await fs.mkdir(lists);
  await fs.mkdir(debs);
  // The keyring kiln verified with (apt checks the mirror's files again with it, never the host's),
  // and the site's proxy in a private file: mmdebstrap copies an --aptopt that names a file.
  const keyring = path.join(out, "archive-keyring.gpg");
  await fs.copyFile(suites[0]!.keyring.path, keyring);
  const aptConf = path.join(out, "kiln-apt.conf");
  await fs.writeFile(aptConf, mirrorAptConf(apt), { mode: 0o600 });
  const hook = [
    `cp "$1"/var/lib/apt/lists/*_InRelease '${lists}'/`,
    `(cp "$1"/var/cache/apt/archives/*.deb '${debs}'/ 2>/dev/null || true)`,
    `dpkg-query --admindir="$1"/var/lib/dpkg -W -f='${DPKG_QUERY_FORMAT}' > '${out}/installed.tsv'`,
  ].join(" && ");
  const args = [
    "--mode=chrootless",
    "--variant=minbase",
    `--architectures=${arch}`,
    "--format=null",
    "--skip=download/empty",
    `--hook-dir=${MERGED_USR_HOOKS}`,
    `--customize-hook=${hook}`,
    `--keyring=${keyring}`,
    // The site's apt proxy and user agent apply to this run's downloads too (from the file: never on this command line).
    `--aptopt=${aptConf}`,
    suites[0]!.suite,
    "/dev/null",
    ...suites.map((s) => `deb ${s.mirror} ${s.suite} main`),
  ];
  try {
    await run("mmdebstrap", args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, TMPDIR: workDir } });
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? "");
    const err = stderr.split("\n").filter((l) => l.startsWith("E:")).join(" ") || stderr.trim().split("\n").slice(-3).join(" ");
    throw new KilnError(`mmdebstrap could not resolve the minbase set for ${arch}: ${err}`, "check the mirror settings and the network");
  }
  // The lists apt used must be the very files kiln verified (the mirror may have moved on in between).
  const used = await fs.readdir(lists);
  const verified = suites.map((s) => s.inRelease);
  for (const name of used) {
    const data = await fs.readFile(path.join(lists, name));
    if (!verified.some((v) => v.equals(data))) {
      throw new KilnError(`the mirror changed while locking (${name} differs from the verified InRelease)`, "run the lock again");
    }
  }
  if (used.length !== suites.length) throw new KilnError(`mmdebstrap used ${used.length} release files, expected ${suites.length}`, "check the mirror settings");
  const installed = parseDpkgQuery(await fs.readFile(path.join(out, "installed.tsv"), "utf8"));
  return { installed, debsDir: debs };
}

/** apt.conf lines for the site's apt proxy and user agent; a value that would break out of its quotes is refused. */
export function mirrorAptConf(apt: { proxy?: string; userAgent?: string }): string {
  const lines = ["// kiln: the site's apt settings for resolving"];
  for (const [key, option, value] of [["apt.proxy", "Proxy", apt.proxy], ["apt.userAgent", "User-Agent", apt.userAgent]] as const) {
    if (!value) continue;
    if (/["\n\r]/.test(value)) throw new KilnError(`${key} contains a double quote or a line break`, "apt.conf cannot carry it; remove it");
    lines.push(`Acquire::http::${option} "${value}";`, `Acquire::https::${option} "${value}";`);
  }
  return lines.join("\n") + "\n";
}

/** linux/arm64 -> arm64 (Debian architecture names pass through). */
export function debianArch(platformOrArch: string): string {
  const arch = platformOrArch.replace(/^linux\//, "");
  const map: Record<string, string> = { amd64: "amd64", arm64: "arm64", "arm64/v8": "arm64", "arm/v7": "armhf", "386": "i386", ppc64le: "ppc64el", s390x: "s390x", riscv64: "riscv64" };
  const found = map[arch];
  if (!found) throw new KilnError(`no Debian architecture for platform ${platformOrArch}`, "use linux/amd64 or linux/arm64");
  return found;
}
