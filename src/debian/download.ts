/**
 * Fetching from Debian mirrors with curl (honours the site's apt proxy and
 * user agent), trying each configured mirror in order. Offline settings
 * refuse every fetch and say what was missing.
 */
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import { type ContentStore, HashMismatchError } from "../util/cas.ts";
import { run } from "../util/run.ts";

function curlArgs(settings: Settings): string[] {
  const args = ["-fsSL", "--retry", "2", "--connect-timeout", "15", "--max-time", "600"];
  if (settings.apt.proxy) args.push("--proxy", settings.apt.proxy);
  if (settings.apt.userAgent) args.push("--user-agent", settings.apt.userAgent);
  return args;
}

function refuseOffline(settings: Settings, what: string): void {
  if (settings.offline) throw new KilnError(`offline: ${what} is not in the cache`, "run once with network access (without --offline / KILN_OFFLINE) to fill the cache");
}

/** curl's own one-line reason (`curl: (22) The requested URL returned error: 404`). */
async function curl(args: string[], what: string): Promise<Buffer> {
  const r = await run("curl", args, { what, allowFailure: true });
  if (r.code !== 0) throw new Error(r.stderr.trim().split("\n")[0] || `curl exited ${r.code}`);
  return r.stdout;
}

function firstLine(e: unknown): string {
  return String((e as Error).message ?? e).trim().split("\n")[0] ?? "";
}

/** The bytes at `<mirror>/<rel>` from the first mirror that answers. */
export async function fetchBytes(mirrors: string[], rel: string, settings: Settings, what: string): Promise<{ mirror: string; data: Buffer }> {
  refuseOffline(settings, what);
  const failures: string[] = [];
  for (const mirror of mirrors) {
    const url = `${mirror.replace(/\/+$/, "")}/${rel}`;
    try {
      return { mirror, data: await curl([...curlArgs(settings), url], `fetch ${what}`) };
    } catch (e) {
      failures.push(`${url}: ${firstLine(e)}`);
    }
  }
  throw new KilnError(`cannot fetch ${what}: ${failures.join("; ")}`, "check the apt mirror settings and the network");
}

/**
 * Downloads `<mirror>/<rel>` into the content store, accepting it only when it
 * hashes to `sha256`. A mirror serving other bytes is skipped like a dead one.
 */
export async function fetchIntoStore(store: ContentStore, mirrors: string[], rel: string, sha256: string, settings: Settings, what: string): Promise<string> {
  refuseOffline(settings, what);
  const failures: string[] = [];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-dl-"));
  try {
    for (const mirror of mirrors) {
      const url = `${mirror.replace(/\/+$/, "")}/${rel}`;
      const tmp = path.join(dir, "download");
      try {
        await curl([...curlArgs(settings), "-o", tmp, url], `fetch ${what}`);
        return (await store.put(createReadStream(tmp), "sha256", sha256, what)).path;
      } catch (e) {
        if (e instanceof HashMismatchError) failures.push(`${url}: sha256 ${e.actual}, expected ${e.expected}`);
        else failures.push(`${url}: ${firstLine(e)}`);
      } finally {
        await fs.rm(tmp, { force: true });
      }
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  throw new KilnError(`cannot fetch ${what}: ${failures.join("; ")}`, "check the apt mirror settings and the network");
}

