/**
 * Resolution of a package list (plus hard dependencies, no recommends) with
 * apt itself, run against a local copy of the verified InRelease and Packages
 * files: apt checks the signature and hashes again, and no network is used.
 * The status holds what the image starts from (the parent's package manifest,
 * see installed.ts), so the result is exactly what must be added on top; with
 * an empty status the set is closed on its own.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import type { ContentStore } from "../util/cas.ts";
import { fetchPackagesFile, type VerifiedSuite } from "./indices.ts";
import { statusFileFor } from "./installed.ts";
import type { InstalledPackage } from "./minbase.ts";

const run = promisify(execFile);

/** `Inst name[:arch] [old] (version release [arch])` lines of `apt-get --simulate`. */
export function parseAptSimulation(output: string, nativeArch: string): InstalledPackage[] {
  const found: InstalledPackage[] = [];
  for (const line of output.split("\n")) {
    const m = /^Inst (\S+?)(?::(\S+))? (?:\[[^\]]*\] )?\((\S+) .*\[([^\]]+)\]\)/.exec(line);
    if (!m) continue;
    found.push({ name: m[1]!, version: m[3]!, architecture: m[4] ?? m[2] ?? nativeArch });
  }
  return found;
}

/**
 * apt preferences for other suites: the packages taken from one win there (990);
 * everything else in it gets priority 1, so apt uses it only for a dependency
 * no preferred suite has (a newer version elsewhere is never picked by itself).
 */
export function otherSuitePreferences(suites: readonly Pick<VerifiedSuite, "takes" | "release">[]): string {
  const stanzas: string[] = [];
  for (const s of suites) {
    if (!s.takes) continue;
    const pin = `Pin: release n=${s.release.codename}`;
    stanzas.push(`Package: ${s.takes.join(" ")}\n${pin}\nPin-Priority: 990\n`, `Package: *\n${pin}\nPin-Priority: 1\n`);
  }
  return stanzas.join("\n");
}

export async function resolvePackageSet(
  suites: VerifiedSuite[],
  arch: string,
  request: { packages: string[]; foreignArchitectures: string[]; fromSuites?: Record<string, string[]> },
  /** Packages the image already holds (for this architecture). */
  installed: readonly InstalledPackage[],
  store: ContentStore,
  settings: Settings,
  workDir: string,
): Promise<InstalledPackage[]> {
  const archs = [arch, ...request.foreignArchitectures.filter((a) => a !== arch)];
  const wanted = [...request.packages, ...Object.values(request.fromSuites ?? {}).flat()];
  const stdout = await simulateApt({ suites, arch, archs, status: statusFileFor(installed), store, settings, workDir, what: `${wanted.join(" ")} for ${arch}` }, ["install", ...wanted]);
  // apt may "reinstall" an installed package at the same version (the status carries no
  // relations, so the record differs from the index's): the image has it already.
  const has = new Set(installed.map((p) => `${p.name} ${p.version} ${p.architecture}`));
  return parseAptSimulation(stdout, arch).filter((p) => !has.has(`${p.name} ${p.version} ${p.architecture}`));
}

export interface AptSimulation {
  suites: VerifiedSuite[];
  /** apt's native architecture (the build's). */
  arch: string;
  /** Every architecture whose Packages index apt reads (the native one first). */
  archs: string[];
  /** The dpkg status apt starts from. */
  status: string;
  store: ContentStore;
  settings: Settings;
  workDir: string;
  /** What is being resolved, and where to fix it, for the error. */
  what: string;
  hint?: string;
}

/**
 * `apt-get --simulate <args>` against a local copy of the verified InRelease
 * and Packages files (apt checks signature and hashes again; no network),
 * starting from `status`; returns apt's output.
 */
export async function simulateApt(o: AptSimulation, args: string[]): Promise<string> {
  const root = await fs.mkdtemp(path.join(o.workDir, `apt-${o.arch}-`));
  const sources: string[] = [];
  // The keyring kiln verified with, under a name apt takes for a keyring file.
  const keyring = path.join(root, "archive-keyring.gpg");
  await fs.copyFile(o.suites[0]!.keyring.path, keyring);
  for (const [i, suite] of o.suites.entries()) {
    const base = path.join(root, "mirror", String(i));
    const dists = path.join(base, "dists", suite.suite);
    await fs.mkdir(dists, { recursive: true });
    await fs.writeFile(path.join(dists, "InRelease"), suite.inRelease);
    for (const a of o.archs) {
      const { rel, compressed } = await fetchPackagesFile(suite, a, o.store, o.settings);
      await fs.mkdir(path.dirname(path.join(dists, rel)), { recursive: true });
      await fs.writeFile(path.join(dists, rel), compressed);
    }
    sources.push(`deb [signed-by=${keyring}] file:${base} ${suite.suite} main`);
  }
  for (const d of ["etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d", "etc/apt/trusted.gpg.d", "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"]) {
    await fs.mkdir(path.join(root, d), { recursive: true });
  }
  await fs.writeFile(path.join(root, "etc/apt/sources.list"), sources.join("\n") + "\n");
  await fs.writeFile(path.join(root, "etc/apt/preferences"), otherSuitePreferences(o.suites));
  await fs.writeFile(path.join(root, "var/lib/dpkg/status"), o.status);
  const config = [
    `Dir "${root}/";`,
    `Dir::State::status "${root}/var/lib/dpkg/status";`,
    `APT::Architecture "${o.arch}";`,
    `APT::Architectures { ${o.archs.map((a) => `"${a}";`).join(" ")} };`,
    `APT::Install-Recommends "false";`,
    `APT::Install-Suggests "false";`,
    `Acquire::Languages "none";`,
    `Acquire::By-Hash "no";`,
    `Acquire::Check-Valid-Until "false";`,
    `Debug::NoLocking "true";`,
  ].join("\n");
  const conf = path.join(root, "apt.conf");
  await fs.writeFile(conf, config + "\n");
  const env = { ...process.env, APT_CONFIG: conf };
  try {
    await run("apt-get", ["-q", "update"], { env, maxBuffer: 64 * 1024 * 1024 });
    const { stdout } = await run("apt-get", ["-q", "--simulate", ...args], { env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const out = `${(e as { stdout?: string }).stdout ?? ""}\n${(e as { stderr?: string }).stderr ?? ""}`;
    const lines = out.split("\n").filter((l) => /^(E:| \S+ : Depends)/.test(l));
    throw new KilnError(`apt cannot resolve ${o.what}: ${lines.join(" ").trim() || out.trim().split("\n").slice(-3).join(" ")}`, o.hint ?? "check the package names in the definition's inputs.debian.packages");
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}
