/**
 * The part of the site settings that reaches one image's build, as hashes:
 * per secret the image mounts, what that secret is rendered from (files
 * by their content, so editing a CA file counts); plus extra secrets and
 * --add-host entries, which every build gets. Settings that reach no build
 * (registries, store, cache) are not inputs: changing them rebuilds nothing.
 */
import fs from "node:fs/promises";
import type { ImageDefinition, SiteSecretId } from "../definition/schema.ts";
import { stableStringify } from "../lock/schema.ts";
import type { Settings } from "../settings/schema.ts";
import { hashBytes } from "../util/cas.ts";

/** Which settings each site secret is rendered from. */
const SECRET_SOURCES: Record<SiteSecretId, (s: Settings) => unknown> = {
  "apt.conf": (s) => ({ apt: s.apt, credentials: s.credentials, ca: s.ca, clientCert: s.clientCert, clientKey: s.clientKey }),
  curlrc: (s) => ({ curl: s.curl, ca: s.ca, clientCert: s.clientCert, clientKey: s.clientKey }),
  netrc: (s) => ({ credentials: s.credentials }),
  "ca.pem": (s) => ({ ca: s.ca }),
  "client.pem": (s) => ({ clientCert: s.clientCert }),
  "client.key": (s) => ({ clientKey: s.clientKey }),
  "keyring.gpg": (s) => ({ keyring: s.keyring }),
  goproxy: (s) => ({ go: s.go }),
};

/** Keys whose value may name a file; the file's content is hashed instead of its name. */
const FILE_KEYS = new Set(["ca", "clientCert", "clientKey", "keyring"]);

export async function settingsInputs(settings: Settings, def: ImageDefinition): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const id of [...def.secrets].sort()) {
    out[`secret ${id}`] = hashBytes(stableStringify(await withFileContents(SECRET_SOURCES[id](settings))));
  }
  for (const [id, file] of Object.entries(settings.secrets).sort()) out[`secret ${id}`] = hashBytes(await readOr(file, `missing ${file}`));
  if (Object.keys(settings.hosts).length) out.hosts = hashBytes(stableStringify(settings.hosts));
  return out;
}

/** Replaces file names among the settings by their content's hash; inline PEM text stays as it is. */
async function withFileContents(value: unknown, key = ""): Promise<unknown> {
  if (typeof value === "string" && FILE_KEYS.has(key) && !value.includes("-----BEGIN")) return `file:${hashBytes(await readOr(value, `missing ${value}`))}`;
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await withFileContents(v, k)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

async function readOr(file: string, fallback: string): Promise<Buffer | string> {
  return fs.readFile(file).catch(() => fallback);
}
