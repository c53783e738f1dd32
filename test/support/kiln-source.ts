/**
 * The digest of kiln's own build path: what decides how an image is built besides the image's
 * own inputs. The end-to-end family memo keys on it, so a change to kiln (its source, its
 * dependencies, the base image's shared tools) builds the family again instead of reusing
 * images that the previous kiln made.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/** Folders and files of a checkout that make up the build path (tests excluded: they build nothing). */
export const KILN_SOURCE_PATHS = ["src", "bin", "images/base/context", "package.json", "package-lock.json", "tsconfig.json"];

function listFiles(root: string, rel: string, out: string[]): void {
  const full = path.join(root, rel);
  let stat;
  try {
    stat = statSync(full);
  } catch {
    return; // not in this checkout: nothing of it can change a build
  }
  if (stat.isDirectory()) {
    for (const name of readdirSync(full).sort()) listFiles(root, path.posix.join(rel, name), out);
  } else if (!rel.endsWith(".test.ts")) {
    out.push(rel);
  }
}

/** sha256 over every build-path file's name, mode and bytes, in a fixed order. */
export function kilnSourceDigest(root: string): string {
  const files: string[] = [];
  for (const p of KILN_SOURCE_PATHS) listFiles(root, p, files);
  const hash = createHash("sha256");
  for (const rel of files) {
    const full = path.join(root, rel);
    const bytes = readFileSync(full);
    hash.update(`${rel}\0${statSync(full).mode & 0o111 ? "x" : "-"}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return `sha256:${hash.digest("hex")}`;
}

const cached = new Map<string, string>();

/** kilnSourceDigest, computed once per process and checkout. */
export function kilnSourceDigestOnce(root: string): string {
  let digest = cached.get(root);
  if (!digest) cached.set(root, (digest = kilnSourceDigest(root)));
  return digest;
}

/** What a memo of a family build is keyed on: the image's inputs, its folder's commit, and kiln itself. */
export function familyMemoKey(imageInputs: string, imageCommit: string, kilnSource: string): string {
  return `${imageInputs}@${imageCommit}@kiln=${kilnSource}`;
}
