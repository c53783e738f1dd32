/**
 * `resolveSourcePackage`: a Debian source package request -> its pins: the
 * .dsc and every file it lists (from the verified Sources index, all fetched
 * into the cache and checked), and per (build, target) architecture pair the
 * build-dependencies apt's `build-dep --host-architecture` selects: tools for
 * the build architecture, libraries for the target (multiarch), each looked up
 * in the verified Packages indices.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { DebianSourceLock, LockedDeb } from "../lock/schema.ts";
import type { Settings } from "../settings/schema.ts";
import type { ContentStore } from "../util/cas.ts";
import { fetchPoolFile } from "./debs.ts";
import { fetchVerifiedSuite, loadPackageTable, suiteSources, type VerifiedSuite } from "./indices.ts";
import { parseAptSimulation, simulateApt } from "./packages.ts";
import { debStore, lockedFrom, snapshotOf } from "./resolve.ts";
import { checkDscAgainstIndex, loadSourcesIndex, pickSource, type SourceEntry } from "./sources.ts";

export interface SourceRequest {
  package: string;
  version?: string;
  suite: string;
  profiles: string[];
  onTopOf?: string;
  /** `build`: one set of build-dependencies, resolved for the build architecture, serves every target. */
  buildDependsFor?: "target" | "build";
}

/** Per build architecture, the dpkg status the build starts from ("" for nothing installed). */
export type BuildStatus = Record<string, string>;

/** Every file of a source entry, from the cache or the mirrors, each checked against its sha256: file name -> cached path. */
export async function fetchSourceFiles(entry: Pick<SourceEntry, "archive" | "directory" | "files" | "package" | "version">, store: ContentStore, settings: Settings, log: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of entry.files) {
    const got = await fetchPoolFile(store, { archive: entry.archive, path: `${entry.directory}/${f.name}`, sha256: f.sha256, size: f.size }, `${entry.package} ${entry.version} ${f.name}`, settings, log);
    out.set(f.name, got.path);
  }
  return out;
}

export async function resolveSourcePackage(request: SourceRequest, targetArchs: string[], status: BuildStatus, settings: Settings, cacheDir: string, log: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<DebianSourceLock> {
  const store = debStore(cacheDir);
  const suites: VerifiedSuite[] = [];
  for (const source of suiteSources(request.suite, settings)) {
    log(`debian: verifying ${source.suite} InRelease`);
    suites.push(await fetchVerifiedSuite(source, settings, store));
  }
  const entries: SourceEntry[] = [];
  for (const suite of suites) entries.push(...(await loadSourcesIndex(suite, store, settings)));
  const entry = await pickSource(entries, request.package, request.version);
  log(`debian: source ${entry.package} ${entry.version} (${entry.suite}), ${entry.files.length} files`);
  const files = await fetchSourceFiles(entry, store, settings, log);
  const dscName = entry.files[0]!.name;
  checkDscAgainstIndex(await fs.readFile(files.get(dscName)!, "utf8"), entry);

  const work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-source-"));
  try {
    // apt-get build-dep reads a .dsc by its file name.
    const dsc = path.join(work, dscName);
    await fs.copyFile(files.get(dscName)!, dsc);
    const buildDepends: DebianSourceLock["buildDepends"] = {};
    for (const buildArch of Object.keys(status).sort()) {
      buildDepends[buildArch] = {};
      const forBuild = request.buildDependsFor === "build";
      for (const target of [...new Set(targetArchs)].sort()) {
        if (forBuild && Object.keys(buildDepends[buildArch]!).length) {
          buildDepends[buildArch]![target] = Object.values(buildDepends[buildArch]!)[0]!;
          continue;
        }
        const host = forBuild ? buildArch : target;
        const archs = [...new Set([buildArch, host])];
        log(`debian: build-dependencies of ${entry.package} on ${buildArch} for ${forBuild ? "every target" : target}`);
        const args = ["build-dep", "--host-architecture", host, ...(request.profiles.length ? ["--build-profiles", request.profiles.join(",")] : []), dsc];
        const out = await simulateApt(
          { suites, arch: buildArch, archs, status: status[buildArch]!, store, settings, workDir: work, what: `the build-dependencies of ${entry.package} ${entry.version} on ${buildArch} for ${host}`, hint: "check inputs.debianSource (profiles, onTopOf, buildDependsFor)" },
          args,
        );
        const table = await loadPackageTable(suites, archs, store, settings);
        buildDepends[buildArch]![target] = lockedFrom(parseAptSimulation(out, buildArch), table, host) satisfies LockedDeb[];
      }
    }
    return {
      package: entry.package,
      version: entry.version,
      suite: request.suite,
      snapshot: snapshotOf(suites),
      archive: entry.archive,
      directory: entry.directory,
      files: entry.files,
      request: { version: request.version, profiles: [...request.profiles], onTopOf: request.onTopOf, ...(request.buildDependsFor === "build" ? { buildDependsFor: "build" as const } : {}) },
      buildDepends,
    };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
