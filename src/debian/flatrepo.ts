/**
 * A flat apt repository of verified .debs: the files, a `Packages` index
 * (dpkg-scanpackages) and a small unsigned `Release` naming the suite (so
 * mmdebstrap's `?archive(^suite$)` selections match). Used as
 * `deb [trusted=yes] file:/debs ./`: trust comes from the sha256 check each
 * file passed before entering the cache, not from a signature.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { KilnError } from "../errors.ts";
import { hashBytes } from "../util/cas.ts";

const run = promisify(execFile);

export async function makeFlatRepo(debs: Map<string, string>, arch: string, destDir: string, options: { suite?: string } = {}): Promise<string> {
  await fs.rm(destDir, { recursive: true, force: true });
  await fs.mkdir(destDir, { recursive: true });
  for (const [key, file] of debs) {
    const dest = path.join(destDir, `${key.replace(/[^A-Za-z0-9.+_-]/g, "_")}.deb`);
    // A copy, not a link: nothing done to the repository can reach the cache.
    await fs.copyFile(file, dest);
  }
  let packages: string;
  try {
    ({ stdout: packages } = await run("dpkg-scanpackages", ["--multiversion", ".", "/dev/null"], { cwd: destDir, maxBuffer: 256 * 1024 * 1024 }));
  } catch (e) {
    throw new KilnError(`dpkg-scanpackages failed for the ${arch} repository: ${String((e as { stderr?: string }).stderr ?? e).trim()}`, "is dpkg-dev installed?");
  }
  await fs.writeFile(path.join(destDir, "Packages"), packages);
  const suite = options.suite ?? "kiln";
  const release = [
    `Origin: kiln`,
    `Label: kiln locked packages`,
    `Suite: ${suite}`,
    `Codename: ${suite}`,
    `SHA256:`,
    ` ${hashBytes(packages)} ${Buffer.byteLength(packages)} Packages`,
    "",
  ].join("\n");
  await fs.writeFile(path.join(destDir, "Release"), release);
  return destDir;
}

/** The apt source line for a flat repository mounted at `mountPoint`. */
export function flatRepoSource(mountPoint: string): string {
  return `deb [trusted=yes] file:${mountPoint} ./`;
}
