/**
 * Build history: every build into the store leaves a record (ref, digest,
 * per-platform digests and sizes, date, the pins it was built from) in the
 * catalog state, `history/<image>/<target>.json`, the newest last and at
 * most HISTORY_LIMIT per target. Pins are kept once per distinct set,
 * addressed by their hash (`pins/<sha256>.json`), so fifty builds of an
 * unchanged lock cost one pin file. `kiln site` reads both.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import lockfile from "proper-lockfile";
import { readLock } from "../lock/io.ts";
import { stableStringify, type Lock } from "../lock/schema.ts";
import { writeAtomic, type OciStore } from "../oci/store.ts";
import { imageSizes, type PlatformSize } from "./sizes.ts";
import type { CatalogState } from "./state.ts";

export const HISTORY_LIMIT = 50;

export interface BuildRecord {
  /** `name:target` */
  ref: string;
  /** Index digest. */
  digest: string;
  /** ISO date the build finished. */
  builtAt: string;
  durationMs?: number;
  platforms: PlatformSize[];
  /** Hash of the pin set (`pins/<hash>.json`), when the image has a lock. */
  pins?: string;
}

/** A lock flattened to one line per pin: `debian amd64 curl` -> `7.88.1-10`, `parent base` -> `base:runtime@sha256:...`. */
export type PinSet = Record<string, string>;

export function flattenPins(lock: Lock | undefined): PinSet {
  const out: PinSet = {};
  if (!lock) return out;
  for (const [arch, debs] of Object.entries(lock.debian?.packages ?? {})) {
    for (const d of debs) out[`debian ${arch} ${d.name}`] = d.version;
  }
  for (const [name, g] of Object.entries(lock.git ?? {})) out[`git ${name}`] = `${g.commit} (${g.ref})`;
  for (const [name, perPlatform] of Object.entries(lock.downloads ?? {})) {
    for (const [platform, d] of Object.entries(perPlatform)) {
      out[`download ${name} ${platform}`] = d.sha256 ? `sha256:${d.sha256}` : d.sha512 ? `sha512:${d.sha512}` : d.url;
    }
  }
  for (const [name, p] of Object.entries(lock.parents ?? {})) out[`parent ${name}`] = `${p.ref}@${p.index}`;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface PinChange {
  key: string;
  before?: string;
  after?: string;
}

/** What differs between two pin sets, by key: added (no before), removed (no after), changed. */
export function diffPins(before: PinSet, after: PinSet): PinChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => before[k] !== after[k]).map((k) => ({ key: k, ...(k in before ? { before: before[k] } : {}), ...(k in after ? { after: after[k] } : {}) }));
}

function historyFile(state: CatalogState, ref: string): string {
  const [name, target] = ref.split(":");
  if (!name || !target || /[/\\]|^\.\.?$/.test(name) || /[/\\]|^\.\.?$/.test(target)) throw new Error(`not a catalog ref name:target: ${ref}`);
  return path.join(state.dir, "history", name, `${target}.json`);
}

export async function savePins(state: CatalogState, pins: PinSet): Promise<string> {
  const text = stableStringify(pins);
  const hash = createHash("sha256").update(text).digest("hex");
  const file = path.join(state.dir, "pins", `${hash}.json`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.access(file).catch(() => writeAtomic(file, text));
  return hash;
}

export async function loadPins(state: CatalogState, hash: string): Promise<PinSet | undefined> {
  if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
  const text = await fs.readFile(path.join(state.dir, "pins", `${hash}.json`), "utf8").catch(() => undefined);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as PinSet;
  } catch {
    return undefined;
  }
}

/** The recorded builds of one target, oldest first (none when there is no readable record). */
export async function loadBuilds(state: CatalogState, ref: string): Promise<BuildRecord[]> {
  const text = await fs.readFile(historyFile(state, ref), "utf8").catch(() => undefined);
  if (!text) return [];
  try {
    const list = JSON.parse(text) as unknown;
    return Array.isArray(list) ? (list as BuildRecord[]).filter((r) => r && typeof r.digest === "string" && typeof r.builtAt === "string" && Array.isArray(r.platforms)) : [];
  } catch {
    return []; // a damaged record is no history
  }
}

/** Appends a build to its target's history, keeping the last `limit`; two builds at once each keep theirs (file lock). */
export async function appendBuild(state: CatalogState, record: BuildRecord, limit = HISTORY_LIMIT): Promise<void> {
  const file = historyFile(state, record.ref);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.access(file).catch(() => writeAtomic(file, "[]\n"));
  const release = await lockfile.lock(file, { retries: { retries: 50, minTimeout: 50, maxTimeout: 500 }, stale: 30_000 });
  try {
    const list = [...(await loadBuilds(state, record.ref)), record].slice(-limit);
    await writeAtomic(file, JSON.stringify(list, null, 1) + "\n");
  } finally {
    await release();
  }
}

/**
 * Records a build that just went into the store: sizes per platform (given,
 * or measured now), the pins of the image's lock as it is, the date.
 */
export async function recordBuild(
  store: OciStore,
  state: CatalogState,
  build: { ref: string; digest: string; durationMs?: number; imageDir: string; platforms?: PlatformSize[] },
  now: Date = new Date(),
): Promise<BuildRecord> {
  const lock = await readLock(build.imageDir);
  const record: BuildRecord = {
    ref: build.ref,
    digest: build.digest,
    builtAt: now.toISOString(),
    ...(build.durationMs !== undefined ? { durationMs: build.durationMs } : {}),
    platforms: build.platforms ?? (await imageSizes(store, state, build.digest)),
    ...(lock ? { pins: await savePins(state, flattenPins(lock)) } : {}),
  };
  await appendBuild(state, record);
  return record;
}

/** recordBuild for callers whose build already succeeded: a record that cannot be written is said, not fatal. */
export async function recordBuildQuietly(...args: Parameters<typeof recordBuild>): Promise<void> {
  await recordBuild(...args).catch((e: unknown) => {
    process.stderr.write(`kiln: the build of ${args[2].ref} is stored, but its history record was not written: ${e instanceof Error ? e.message : String(e)}\n`);
  });
}
