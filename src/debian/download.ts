/**
 * Fetching from Debian mirrors with curl (honours the site's apt proxy and
 * user agent), trying each configured mirror in order. Offline settings
 * refuse every fetch and say what was missing.
 */
import { execFile, spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import { type ContentStore, HashMismatchError } from "../util/cas.ts";

const run = promisify(execFile);

function curlArgs(settings: Settings): string[] {
  const args = ["-fsSL", "--retry", "2", "--connect-timeout", "15", "--max-time", "600"];
  if (settings.apt.proxy) args.push("--proxy", settings.apt.proxy);
  if (settings.apt.userAgent) args.push("--user-agent", settings.apt.userAgent);
  return args;
}

function refuseOffline(settings: Settings, what: string): void {
  if (settings.offline) throw new KilnError(`offline: ${what} is not in the cache`, "run once with network access (without --offline / KILN_OFFLINE) to fill the cache");
}

function firstLine(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return String(err.stderr || err.message || e).trim().split("\n")[0] ?? "";
}

/** The bytes at `<mirror>/<rel>` from the first mirror that answers. */
export async function fetchBytes(mirrors: string[], rel: string, settings: Settings, what: string): Promise<{ mirror: string; data: Buffer }> {
  refuseOffline(settings, what);
  const failures: string[] = [];
  for (const mirror of mirrors) {
    const url = `${mirror.replace(/\/+$/, "")}/${rel}`;
    try {
      const { stdout } = await run("curl", [...curlArgs(settings), url], { encoding: "buffer", maxBuffer: 512 * 1024 * 1024 });
      return { mirror, data: stdout };
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
        await curlToFile(url, tmp, settings);
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

function curlToFile(url: string, dest: string, settings: Settings): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("curl", [...curlArgs(settings), "-o", dest, url], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(Object.assign(new Error(`curl exited ${code}`), { stderr }))));
  });
}
