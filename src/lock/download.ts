/**
 * Downloads: which URL serves which platform, and fetching a URL into the
 * content cache. Bytes enter the cache only through ContentStore.put, which
 * hashes while streaming and renames into place: an interrupted or wrong
 * download never becomes an entry, and two fetches of the same file at once
 * both end with one intact entry.
 */
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { ImageDefinition, Platform } from "../definition/schema.ts";
import { KilnError } from "../errors.ts";
import { ContentStore, HashMismatchError, type HashAlgorithm } from "../util/cas.ts";

export type DownloadDefinition = ImageDefinition["inputs"]["downloads"][string];
/** Lock key for a URL shared by every platform. */
export const ANY_PLATFORM = "any";

export function archOf(platform: string): string {
  return platform.split("/")[1] ?? platform;
}

/**
 * The URL per lock key: `any` when one URL serves every platform, else one
 * entry per platform (`{arch}` in the URL, or a URL per platform).
 */
export function downloadUrls(def: DownloadDefinition, platforms: readonly Platform[]): Record<string, string> {
  if (typeof def.url === "string") {
    if (!def.url.includes("{arch}")) return { [ANY_PLATFORM]: def.url };
    return Object.fromEntries(platforms.map((p) => [p, def.url.toString().replaceAll("{arch}", archOf(p))]));
  }
  const perPlatform = def.url;
  return Object.fromEntries(platforms.filter((p) => perPlatform[p]).map((p) => [p, perPlatform[p]!]));
}

/** The signature URL for one download URL: `{url}` and `{arch}` are filled in. */
export function signatureUrl(template: string, url: string, key: string): string {
  return template.replaceAll("{url}", url).replaceAll("{arch}", key === ANY_PLATFORM ? "{arch}" : archOf(key));
}

/** The lock key that serves `platform`: its own entry, else the shared one. */
export function keyFor(entries: Record<string, unknown>, platform: string): string | undefined {
  if (platform in entries) return platform;
  if (ANY_PLATFORM in entries) return ANY_PLATFORM;
  return undefined;
}

async function open(url: string, what: string): Promise<Readable> {
  if (url.startsWith("file://")) return createReadStream(fileURLToPath(url));
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow" });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
    throw new KilnError(`${what}: cannot download ${url}: ${cause}`, "check the URL and the network");
  }
  if (!res.ok || !res.body) throw new KilnError(`${what}: ${url} answered HTTP ${res.status}`, "check the URL in the definition");
  return Readable.fromWeb(res.body as import("node:stream/web").ReadableStream);
}

/**
 * The cached file for (algorithm, expected) when present and intact; else
 * fetched from `url` (refused offline). Without `expected`, always fetches and
 * reports what the bytes hash to (resolving a new pin).
 */
export async function fetchToCache(opts: {
  store: ContentStore;
  url: string;
  algorithm: HashAlgorithm;
  expected?: string;
  what: string;
  offline: boolean;
  fix: string;
}): Promise<{ path: string; hex: string }> {
  const { store, url, algorithm, expected, what } = opts;
  if (expected) {
    let tampered = "";
    const cached = await store.getVerified(algorithm, expected, (actual) => {
      tampered = `cached ${what} does not match the lock: expected ${algorithm} ${expected}, got ${actual}`;
    });
    if (cached) return { path: cached, hex: expected };
    if (tampered && opts.offline) throw new KilnError(`${tampered}; it was removed from the cache`, "run once with network access to fetch it again");
    if (tampered) process.stderr.write(`kiln: ${tampered}; removed it and fetching it again\n`);
  }
  if (opts.offline) {
    throw new KilnError(
      expected ? `offline: ${what} (${url}, ${algorithm} ${expected}) is not in the cache` : `offline: cannot resolve ${what} (${url})`,
      "run once with network access to fill the cache",
    );
  }
  try {
    const { path, hex } = await store.put(await open(url, what), algorithm, expected, what);
    return { path, hex };
  } catch (e) {
    if (e instanceof HashMismatchError) {
      throw new KilnError(`${what}: ${url} has ${algorithm} ${e.actual}, the lock expects ${e.expected}`, `the file changed on the server; check why, then ${opts.fix}`);
    }
    if (e instanceof KilnError) throw e;
    throw new KilnError(`${what}: download of ${url} failed: ${(e as Error).message}`, "retry; nothing partial was kept");
  }
}
