/**
 * The inputs of one image target, each reduced to a hash: what decides whether
 * a stored image is still what a build would make now. The manifest keeps the
 * per-input hashes (so a later look can say *which* input changed); its own
 * hash is the one recorded on the store entry.
 *
 * Deliberately not inputs: git metadata (revision, dirty flag), which would
 * make every commit or edit anywhere rebuild the whole catalog, and options
 * that only publish (push, load, tags).
 */
import dockerignore from "@balena/dockerignore";
import fs from "node:fs/promises";
import path from "node:path";
import type { LoadedImage } from "../definition/catalog.ts";
import { lockPathOf } from "../lock/io.ts";
import { stableStringify } from "../lock/schema.ts";
import { hashBytes, hashFile } from "../util/cas.ts";

export const INPUTS_ANNOTATION = "dev.kiln.inputs.sha256";

export interface InputManifest {
  manifestVersion: 1;
  ref: string;
  /** The definition as loaded and validated (comments and formatting do not count). */
  definition: string;
  /** The lock without its parent pins (those are `parents`), or "none". */
  lock: string;
  dockerfile: string;
  /** Context path (relative, `/`-separated) -> hash of type, mode and content. */
  context: Record<string, string>;
  /** Named context -> the parent's index digest in the store ("missing" when not built). */
  parents: Record<string, string>;
  platforms: string[];
  /** Engine and driver versions, e.g. `buildx 0.13.1, buildkit v0.13.2`. */
  engine: string;
  /** Settings that reach the build (rendered secrets, hosts, extra build args) -> hash. */
  settings: Record<string, string>;
}

export interface InputSources {
  /** Parent index digests from the store, by named context. */
  parentDigests: Record<string, string | undefined>;
  platforms: string[];
  engine: string;
  settings: Record<string, string>;
}

export async function collectInputs(image: LoadedImage, target: string, src: InputSources): Promise<InputManifest> {
  const def = image.def;
  const dockerfile = path.resolve(image.dir, def.dockerfile);
  const contextDir = path.resolve(image.dir, def.context);
  const lockFile = lockPathOf(image.dir);
  const [dockerfileHash, lockHash, context] = await Promise.all([
    hashFile(dockerfile).catch(() => "missing"),
    hashLock(lockFile),
    hashContext(contextDir, dockerfile, new Set([image.file, lockFile, dockerfile])),
  ]);
  return {
    manifestVersion: 1,
    ref: `${image.name}:${target}`,
    definition: hashBytes(stableStringify(def)),
    lock: lockHash,
    dockerfile: dockerfileHash,
    context,
    parents: Object.fromEntries(Object.keys(def.parents).sort().map((k) => [k, src.parentDigests[k] ?? "missing"])),
    platforms: [...src.platforms].sort(),
    engine: src.engine,
    settings: src.settings,
  };
}

export function manifestHash(m: InputManifest): string {
  return hashBytes(stableStringify(m));
}

/**
 * Every file, symlink and folder BuildKit would receive as the context
 * (`<Dockerfile>.dockerignore`, else `.dockerignore`, applied as Docker does),
 * except the files hashed on their own (definition, lock, Dockerfile).
 */
export async function hashContext(dir: string, dockerfile: string, skip: Set<string>): Promise<Record<string, string>> {
  // A CommonJS module: its factory is exposed as `.default` too, which is what the types describe.
  const ig = dockerignore.default();
  const rules = (await readIfExists(`${dockerfile}.dockerignore`)) ?? (await readIfExists(path.join(dir, ".dockerignore")));
  if (rules !== undefined) ig.add(rules.split("\n"));
  const out: Record<string, string> = {};
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return [];
    throw e;
  });
  await Promise.all(
    entries.map(async (e) => {
      const abs = path.join(e.parentPath, e.name);
      const rel = path.relative(dir, abs).split(path.sep).join("/");
      if (skip.has(abs) || ig.ignores(rel)) return;
      const st = await fs.lstat(abs);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[rel] = hashBytes(`symlink ${mode} ${await fs.readlink(abs)}`);
      else if (st.isDirectory()) out[rel] = hashBytes(`dir ${mode}`);
      else if (st.isFile()) out[rel] = hashBytes(`file ${mode} ${await hashFile(abs)}`);
    }),
  );
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The lock's pins except the parents', which the parent digests cover (a catalog build re-pins them). */
async function hashLock(file: string): Promise<string> {
  const text = await readIfExists(file);
  if (text === undefined) return "none";
  try {
    const { parents: _parents, ...rest } = JSON.parse(text) as Record<string, unknown>;
    return hashBytes(stableStringify(rest));
  } catch {
    return hashBytes(text);
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  return fs.readFile(file, "utf8").catch(() => undefined);
}

/** What differs between the recorded inputs and the current ones, in words; empty when nothing does. */
export function describeChanges(before: InputManifest, now: InputManifest): string[] {
  const out: string[] = [];
  if (before.definition !== now.definition) out.push("definition changed");
  if (before.lock !== now.lock) out.push(before.lock === "none" ? "lock added" : now.lock === "none" ? "lock removed" : "lock changed");
  if (before.dockerfile !== now.dockerfile) out.push("Dockerfile changed");
  const files = new Set([...Object.keys(before.context), ...Object.keys(now.context)]);
  const changed: string[] = [];
  for (const f of [...files].sort()) {
    const [a, b] = [before.context[f], now.context[f]];
    if (a === b) continue;
    changed.push(a === undefined ? `${f} (added)` : b === undefined ? `${f} (removed)` : f);
  }
  if (changed.length) out.push(`context file${changed.length > 1 ? "s" : ""} ${listed(changed)}`);
  for (const k of new Set([...Object.keys(before.parents), ...Object.keys(now.parents)])) {
    if (before.parents[k] !== now.parents[k]) out.push(`parent ${k} digest changed (${short(before.parents[k])} -> ${short(now.parents[k])})`);
  }
  if (before.platforms.join() !== now.platforms.join()) out.push(`platforms changed (${before.platforms.join(",")} -> ${now.platforms.join(",")})`);
  if (before.engine !== now.engine) out.push(`engine changed (${before.engine} -> ${now.engine})`);
  const settings = [...new Set([...Object.keys(before.settings), ...Object.keys(now.settings)])].filter((k) => before.settings[k] !== now.settings[k]);
  if (settings.length) out.push(`settings changed (${settings.sort().join(", ")})`);
  return out;
}

function listed(items: string[], most = 3): string {
  return items.length <= most ? items.join(", ") : `${items.slice(0, most).join(", ")} and ${items.length - most} more`;
}

function short(digest: string | undefined): string {
  if (!digest) return "none";
  return digest.startsWith("sha256:") ? digest.slice(7, 19) : digest;
}
