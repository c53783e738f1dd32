/**
 * Fetching from Debian mirrors with curl (honours the site's apt proxy and
 * user agent), trying each configured mirror in order. Offline settings
 * refuse every fetch and say what was missing.
 *
 * curl takes its whole configuration (URL, proxy with its credentials, user
 * agent) on standard input (`-K -`): nothing of it is on a command line, where
 * any local user reads it in /proc. Its output is streamed, never held whole:
 * into the content cache (a temporary file there, hashed as it goes) or, for
 * the small InRelease files, into memory; either way it is cut at a size bound
 * and refused past it, so an endless or oversized answer costs nothing.
 */
import { spawn } from "node:child_process";
import { type Readable, Transform } from "node:stream";
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import { curlQuote } from "../settings/secrets.ts";
import { type ContentStore, HashMismatchError } from "../util/cas.ts";
import { startFailure } from "../util/run.ts";
import { stopOnInterrupt } from "../util/interrupt.ts";

/** The most an InRelease may weigh (Debian's are about 150 KB); nothing signed gives its size. */
export const MAX_INRELEASE_BYTES = 16 * 1024 * 1024;

/** The bytes ran past what the signed index allows. */
export class SizeBoundError extends Error {
  constructor(readonly bound: number) {
    super(`more than the ${bound} bytes expected; cut there and refused`);
  }
}

/** A pass-through stream that fails as soon as more than `bound` bytes have gone through. */
export function boundedStream(bound: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > bound ? new SizeBoundError(bound) : null, seen > bound ? undefined : chunk);
    },
  });
}

/** curl's configuration for one URL, as `-K -` reads it: the site's proxy and user agent included. */
export function curlConfig(settings: Settings, url: string): string {
  const lines = ["fail", "silent", "show-error", "location", "retry = 2", "connect-timeout = 15", "max-time = 600", `url = ${curlQuote("url", url)}`];
  if (settings.apt.proxy) lines.push(`proxy = ${curlQuote("apt.proxy", settings.apt.proxy)}`);
  if (settings.apt.userAgent) lines.push(`user-agent = ${curlQuote("apt.userAgent", settings.apt.userAgent)}`);
  return lines.join("\n") + "\n";
}

function refuseOffline(settings: Settings, what: string): void {
  if (settings.offline) throw new KilnError(`offline: ${what} is not in the cache`, "run once with network access (without --offline / KILN_OFFLINE) to fill the cache");
}

/**
 * Runs curl for `url` and hands its output, bounded, to `sink`. The reason
 * that wins: the size bound, then curl's own one-line error
 * (`curl: (22) The requested URL returned error: 404`), then the sink's.
 */
async function streamUrl<T>(settings: Settings, url: string, bound: number, sink: (body: Readable) => Promise<T>): Promise<T> {
  const child = spawn("curl", ["-K", "-"], { stdio: ["pipe", "pipe", "pipe"] });
  const forget = stopOnInterrupt(child);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.on("error", () => {});
  child.stdin.end(curlConfig(settings, url));
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", (e: NodeJS.ErrnoException) => reject(startFailure(e, "curl", `fetch ${url}`)));
    child.on("close", (code) => resolve(code ?? 1));
  });
  const body = child.stdout.pipe(boundedStream(bound));
  child.stdout.on("error", () => {});
  const sunk = sink(body).catch((e: unknown) => {
    // Whatever stopped the sink (the bound, a wrong hash), curl has nothing more to do.
    if (child.exitCode === null) child.kill("SIGTERM");
    throw e;
  });
  const [result, code] = await Promise.allSettled([sunk, exited]).finally(forget);
  if (result.status === "rejected" && result.reason instanceof SizeBoundError) throw result.reason;
  if (code.status === "rejected") throw code.reason;
  if (code.value !== 0) throw new Error(stderr.trim().split("\n")[0] || `curl exited ${code.value}`);
  if (result.status === "rejected") throw result.reason;
  return result.value;
}

/** A whole (bounded) stream in memory. */
async function collect(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

function firstLine(e: unknown): string {
  return String((e as Error).message ?? e).trim().split("\n")[0] ?? "";
}

/** The bytes at `<mirror>/<rel>` (at most `bound`) from the first mirror that answers. */
export async function fetchBytes(mirrors: string[], rel: string, settings: Settings, what: string, bound = MAX_INRELEASE_BYTES): Promise<{ mirror: string; data: Buffer }> {
  refuseOffline(settings, what);
  const failures: string[] = [];
  for (const mirror of mirrors) {
    const url = `${mirror.replace(/\/+$/, "")}/${rel}`;
    try {
      return { mirror, data: await streamUrl(settings, url, bound, collect) };
    } catch (e) {
      if (e instanceof KilnError) throw e;
      failures.push(`${url}: ${firstLine(e)}`);
    }
  }
  throw new KilnError(`cannot fetch ${what}: ${failures.join("; ")}`, "check the apt mirror settings and the network");
}

/**
 * Downloads `<mirror>/<rel>` into the content store, accepting it only when it
 * hashes to `sha256` and is not longer than `size`, the size the signed index
 * or the lock gives. A mirror serving other bytes is skipped like a dead one;
 * nothing of a refused download stays in the cache.
 */
export async function fetchIntoStore(store: ContentStore, mirrors: string[], rel: string, sha256: string, settings: Settings, what: string, size: number): Promise<string> {
  refuseOffline(settings, what);
  const failures: string[] = [];
  for (const mirror of mirrors) {
    const url = `${mirror.replace(/\/+$/, "")}/${rel}`;
    try {
      return await streamUrl(settings, url, size, async (body) => (await store.put(body, "sha256", sha256, what)).path);
    } catch (e) {
      if (e instanceof KilnError) throw e;
      if (e instanceof HashMismatchError) failures.push(`${url}: sha256 ${e.actual}, expected ${e.expected}`);
      else failures.push(`${url}: ${firstLine(e)}`);
    }
  }
  throw new KilnError(`cannot fetch ${what}: ${failures.join("; ")}`, "check the apt mirror settings and the network");
}
