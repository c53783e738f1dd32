/**
 * The part of the site settings and of the command line that reaches one
 * image's build, as hashes: each secret the build mounts in its rendered form
 * (so editing a CA file or a proxy counts, for the images that mount it),
 * --add-host entries and extra build args. Settings that reach no build
 * (registries, store, cache) are not inputs: changing them rebuilds nothing.
 *
 * A rendered secret is hashed with a key (HMAC-SHA256), never plainly: the
 * record of a build's inputs is kept on disk, and a plain sha256 of a short
 * netrc or proxy URL gives its password away to whoever can guess it. The key
 * is made once per state folder (`secrets.key`, 0600, beside the store).
 */
import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { ImageDefinition } from "../definition/schema.ts";
import { stableStringify } from "../lock/schema.ts";
import { storeDir } from "../paths.ts";
import { renderSecrets } from "../settings/secrets.ts";
import type { Settings } from "../settings/schema.ts";
import { hashBytes } from "../util/cas.ts";
import { temporaryName } from "../util/temp.ts";
import { stateDirOf } from "./state.ts";

const KEY_BYTES = 32;

/**
 * The machine's key for digests of secrets, made on first use: written whole
 * to a temporary file, then linked into place (two kiln runs at once agree on
 * one key); a key file others may read is made private again.
 */
export function secretDigestKey(stateDir: string): Buffer {
  const file = path.join(stateDir, "secrets.key");
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; ; attempt++) {
    const key = readKey(file);
    if (key) return key;
    const tmp = temporaryName(file);
    fs.writeFileSync(tmp, randomBytes(KEY_BYTES), { mode: 0o600 });
    try {
      if (attempt > 0) fs.rmSync(file, { force: true }); // a damaged key: made again
      fs.linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 2) throw e;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
}

function readKey(file: string): Buffer | undefined {
  let key: Buffer;
  try {
    key = fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  if (key.length !== KEY_BYTES) return undefined;
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  return key;
}

/** `stateDir`: the state folder of the store the build goes to (it holds the key). */
export function settingsInputs(settings: Settings, def: ImageDefinition, buildArgs: Record<string, string> = {}, stateDir = stateDirOf(storeDir(settings))): Record<string, string> {
  const out: Record<string, string> = {};
  // The same ids a build renders: the definition's site secrets plus every extra secret of the settings.
  const rendered = Object.entries(renderSecrets(settings, [...def.secrets, ...Object.keys(settings.secrets)]));
  if (rendered.length) {
    const key = secretDigestKey(stateDir);
    for (const [id, content] of rendered) out[`secret ${id}`] = createHmac("sha256", key).update(content).digest("hex");
  }
  if (Object.keys(settings.hosts).length) out.hosts = hashBytes(stableStringify(settings.hosts));
  if (Object.keys(buildArgs).length) out["build args"] = hashBytes(stableStringify(buildArgs));
  return out;
}
