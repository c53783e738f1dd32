/**
 * The minbase rootfs builder: mmdebstrap from a flat repository of locked,
 * verified .debs (no network), merged /usr via mmdebstrap's hook, slim dpkg
 * path excludes, the customize hook (snapshot sources, minimizing config,
 * cleanup), SOURCE_DATE_EPOCH = the lock's snapshot. Same lock, same tarball.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { KilnError } from "../errors.ts";
import { type DebianLock, snapshotToEpoch } from "../lock/schema.ts";
import { MERGED_USR_HOOKS, debianArch } from "./minbase.ts";

const run = promisify(execFile);

export const CUSTOMIZE_HOOK = path.join(path.dirname(new URL(import.meta.url).pathname), "hooks", "customize.sh");

/** dpkg path rules of a slim rootfs (copyright files stay: they are the licences). */
export const SLIM_DPKG_OPTIONS = [
  "path-exclude=/usr/share/doc/*",
  "path-include=/usr/share/doc/*/copyright",
  "path-exclude=/usr/share/man/*",
  "path-exclude=/usr/share/info/*",
  "path-exclude=/usr/share/locale/*",
  "path-exclude=/usr/share/groff/*",
  "path-exclude=/usr/share/linda/*",
  "path-exclude=/usr/share/lintian/overrides/*",
];

export interface RootfsOptions {
  lock: DebianLock;
  arch: string;
  /** A flat repository made by makeFlatRepo from the lock's .debs for `arch`. */
  repoDir: string;
  /** The tarball to write. */
  output: string;
  /**
   * `root` (default) runs maintainer scripts in a chroot (qemu for a foreign
   * arch); `chrootless` runs none of the target's binaries but ldconfig, and
   * is faster, but its output differs from `root` with the slim excludes.
   */
  mode?: "chrootless" | "root";
  /** false: a plain minbase (no customize hook, no slim), for comparisons. */
  customize?: boolean;
  /** Where mmdebstrap unpacks before packing the tarball. */
  tmpDir?: string;
}

export async function buildRootfs(options: RootfsOptions): Promise<void> {
  const { lock, repoDir, output } = options;
  const arch = debianArch(options.arch);
  const debs = lock.packages[arch];
  if (!debs?.length) throw new KilnError(`the Debian lock has no packages for ${arch}`, "run `kiln lock` for this image");
  const customize = options.customize ?? true;
  const mode = options.mode ?? "root";
  // Every locked package is named: the repository holds nothing else, so the
  // installed set is exactly the lock (never a subset the variant missed).
  const names = debs.filter((d) => d.architecture === arch || d.architecture === "all").map((d) => d.name);
  const args = [
    `--mode=${mode}`,
    "--variant=minbase",
    `--architectures=${arch}`,
    "--format=tar",
    `--hook-dir=${MERGED_USR_HOOKS}`,
    `--include=${names.join(",")}`,
    ...(customize ? [...SLIM_DPKG_OPTIONS.map((o) => `--dpkgopt=${o}`), `--customize-hook=${CUSTOMIZE_HOOK}`] : []),
    lock.suite,
    output,
    // copy: makes apt copy each .deb into the rootfs's cache, where dpkg (chrooted or not) reads it.
    `deb [trusted=yes] copy://${path.resolve(repoDir)} ./`,
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SOURCE_DATE_EPOCH: String(snapshotToEpoch(lock.snapshot)),
    KILN_SNAPSHOT: lock.snapshot,
    KILN_SUITE: lock.suite,
    KILN_SLIM: "1",
    ...(options.tmpDir ? { TMPDIR: options.tmpDir } : {}),
  };
  await fs.mkdir(path.dirname(output), { recursive: true });
  try {
    await run("mmdebstrap", args, { env, maxBuffer: 256 * 1024 * 1024 });
  } catch (e) {
    await fs.rm(output, { force: true });
    const stderr = String((e as { stderr?: string }).stderr ?? (e as Error).message);
    const lines = stderr.split("\n").filter((l) => l.startsWith("E:"));
    throw new KilnError(`mmdebstrap failed for ${arch}: ${(lines.length ? lines : stderr.trim().split("\n").slice(-3)).join(" ")}`, "see the message above; the lock and the repository must match");
  }
}
