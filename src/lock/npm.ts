/**
 * Node programs pinned by a committed package-lock.json (`inputs.npm`): every
 * package must carry an `integrity` sha512 and a `resolved` URL (without it
 * `npm ci --offline` would ask the registry for the package's metadata). The kiln lock
 * records the package-lock's sha256 and each tarball (URL, sha512); the
 * tarballs enter the content cache only when they hash to that sha512.
 * The build context `npm-<name>`:
 *   package.json, package-lock.json   as committed
 *   cache/_cacache/content-v2/sha512/  the verified tarballs, laid out as npm's
 *                                      cache, for `npm ci --offline --cache <mount>/cache`
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { LoadedImage } from "../definition/catalog.ts";
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import { hashBytes } from "../util/cas.ts";
import { fetchToCache } from "./download.ts";
import { contentStore } from "./resolve.ts";
import type { NpmLock } from "./schema.ts";

interface PackageLockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  inBundle?: boolean;
}

/** The sha512 of an npm `integrity` string (`sha512-<base64>`, possibly among other hashes), in hex. */
export function sha512OfIntegrity(integrity: string | undefined): string | undefined {
  const sri = (integrity ?? "").split(/\s+/).find((s) => s.startsWith("sha512-"));
  if (!sri) return undefined;
  const hex = Buffer.from(sri.slice("sha512-".length), "base64").toString("hex");
  return /^[0-9a-f]{128}$/.test(hex) ? hex : undefined;
}

/** The packages a package-lock (lockfileVersion 2 or 3) pins; refuses anything not pinned by sha512. */
export function packagesOfLockfile(text: string, where: string): NpmLock["packages"] {
  let parsed: { lockfileVersion?: number; packages?: Record<string, PackageLockEntry> };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (e) {
    throw new KilnError(`${where} is not valid JSON: ${(e as Error).message}`, "regenerate it with `npm install --package-lock-only`");
  }
  if (!parsed.packages || (parsed.lockfileVersion ?? 0) < 2) throw new KilnError(`${where} is lockfileVersion ${parsed.lockfileVersion ?? "?"}; kiln reads version 2 or 3 (a \`packages\` map)`, "regenerate it with npm 7 or newer: `npm install --package-lock-only`");
  const out: NpmLock["packages"] = [];
  for (const [key, entry] of Object.entries(parsed.packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (key === "" || entry.inBundle) continue; // the program itself; bundled packages come inside their parent's tarball
    if (entry.link) throw new KilnError(`${where}: ${key} is a link to a local folder`, "vendor it into the program or publish it; kiln pins registry tarballs only");
    const sha512 = sha512OfIntegrity(entry.integrity);
    const url = entry.resolved;
    if (url === undefined && sha512 && entry.version) {
      // Without it `npm ci --offline` asks the registry for the package's metadata (ENOTCACHED) instead of taking the tarball by its integrity.
      throw new KilnError(
        `${where}: ${key} has no \`resolved\` URL (the package-lock was written with omit-lockfile-registry-resolved); \`npm ci --offline\` cannot install it from the tarball cache`,
        "regenerate the package-lock with `npm install --package-lock-only --omit-lockfile-registry-resolved=false`",
      );
    }
    if (!url || !/^https:\/\//.test(url) || !sha512 || !entry.version) {
      throw new KilnError(`${where}: ${key} has no https \`resolved\` URL and sha512 \`integrity\``, "every package must come from a registry tarball pinned by sha512; regenerate the package-lock with `npm install --package-lock-only --omit-lockfile-registry-resolved=false`");
    }
    out.push({ path: key, version: entry.version, url, sha512 });
  }
  return out;
}

async function readLockfile(image: LoadedImage, name: string): Promise<{ file: string; text: string }> {
  const lockfile = image.def.inputs.npm[name]!.lockfile;
  const file = path.resolve(image.dir, lockfile);
  const text = await fs.readFile(file, "utf8").catch(() => {
    throw new KilnError(`npm ${name}: ${path.relative(process.cwd(), file)} does not exist`, `commit the program's package-lock.json there, or fix inputs.npm.${name}.lockfile`);
  });
  return { file, text };
}

/** The pins of one Node program: every tarball fetched and checked against its sha512 (so the cache is filled for offline builds). */
export async function resolveNpm(image: LoadedImage, name: string, settings: Settings): Promise<NpmLock> {
  const { file, text } = await readLockfile(image, name);
  const packages = packagesOfLockfile(text, `npm ${name}: ${image.def.inputs.npm[name]!.lockfile}`);
  await verifiedTarballs(packages, name, settings, `fix ${path.basename(file)}`);
  return { lockfile: image.def.inputs.npm[name]!.lockfile, sha256: hashBytes(text), packages };
}

/** Whether the committed package-lock is still the one pinned (`lock --check`). */
export async function npmProblem(image: LoadedImage, name: string, pin: NpmLock): Promise<string | undefined> {
  const decl = image.def.inputs.npm[name]!;
  if (pin.lockfile !== decl.lockfile) return `npm ${name}: ${decl.lockfile} declared, ${pin.lockfile} locked`;
  const text = await fs.readFile(path.resolve(image.dir, decl.lockfile), "utf8").catch(() => undefined);
  if (text === undefined) return `npm ${name}: ${decl.lockfile} is missing`;
  if (hashBytes(text) !== pin.sha256) return `npm ${name}: ${decl.lockfile} changed since the lock was made (sha256 ${hashBytes(text)}, locked ${pin.sha256})`;
  return undefined;
}

async function verifiedTarballs(packages: NpmLock["packages"], name: string, settings: Settings, fix: string): Promise<Map<string, string>> {
  const store = contentStore(settings);
  const out = new Map<string, string>();
  for (const p of packages) {
    const got = await fetchToCache({ store, url: p.url, algorithm: "sha512", expected: p.sha512, what: `npm ${name} ${p.path}@${p.version}`, offline: settings.offline, fix });
    out.set(p.sha512, got.path);
  }
  return out;
}

/** The `npm-<name>` contexts: the program's package files and its verified tarballs as an npm cache. */
export async function prepareNpm(req: { image: LoadedImage; lock: { npm?: Record<string, NpmLock> }; settings: Settings; workDir: string }): Promise<Record<string, string>> {
  const contexts: Record<string, string> = {};
  for (const name of Object.keys(req.image.def.inputs.npm).sort()) {
    const pin = req.lock.npm![name]!;
    const tarballs = await verifiedTarballs(pin.packages, name, req.settings, `run \`kiln refresh ${req.image.name}\``);
    const dest = path.join(req.workDir, `npm-${name}`);
    const programDir = path.dirname(path.resolve(req.image.dir, pin.lockfile));
    await fs.mkdir(dest, { recursive: true });
    const { text } = await readLockfile(req.image, name);
    if (hashBytes(text) !== pin.sha256) throw new KilnError(`npm ${name}: ${pin.lockfile} has sha256 ${hashBytes(text)}, the lock expects ${pin.sha256}`, `run \`kiln lock ${req.image.name}\``);
    await fs.writeFile(path.join(dest, "package-lock.json"), text);
    await fs.copyFile(path.join(programDir, "package.json"), path.join(dest, "package.json")).catch(() => {
      throw new KilnError(`npm ${name}: package.json is missing next to ${pin.lockfile}`, "commit the program's package.json and package-lock.json together");
    });
    // npm's content-addressed cache: content-v2/sha512/<2 hex>/<2 hex>/<rest>; `npm ci` looks tarballs up by their integrity.
    for (const [hex, file] of tarballs) {
      const target = path.join(dest, "cache", "_cacache", "content-v2", "sha512", hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.copyFile(file, target);
    }
    contexts[`npm-${name}`] = dest;
  }
  return contexts;
}
