/**
 * Site settings become BuildKit secrets, never build args or layers:
 * `renderSecrets` turns settings into file contents per secret id (pure but
 * for reading the files the settings name), `withSecretsDir` writes them to
 * a private temporary folder for the duration of one build and removes it
 * afterwards: on success, on error, and on SIGINT/SIGTERM.
 *
 * apt.conf and curlrc refer to the other secrets at their default mount
 * points (/run/secrets/<id>), so a Dockerfile mounts them side by side.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SITE_SECRET_IDS, type SiteSecretId } from "../definition/schema.ts";
import { KilnError } from "../errors.ts";
import { removeDeadOwners, withTempDir } from "../util/temp.ts";
import type { Settings } from "./schema.ts";

const MOUNT = "/run/secrets";
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

type Content = Buffer | string;

function isPem(s: string): boolean {
  return s.includes("-----BEGIN ");
}

function readSettingFile(key: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new KilnError(`cannot read ${key} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, `fix ${key} in the site settings or unset it`);
  }
}

/** A setting that is a file path or inline PEM text. */
function pemOrFile(key: string, value: string | undefined): Content {
  if (!value) return "";
  if (isPem(value)) return value.endsWith("\n") ? value : `${value}\n`;
  return readSettingFile(key, value);
}

/** apt.conf and curlrc hold values in double quotes on one line: refuse what would break out. */
function oneLine(key: string, value: string): string {
  if (/["\n\r]/.test(value)) throw new KilnError(`${key} contains a double quote or a line break`, "apt.conf and curlrc cannot carry it; remove it");
  return value;
}

export function renderAptConf(s: Settings): string {
  const lines = ["// kiln site settings for apt: a build secret, never stored in an image"];
  if (s.apt.proxy) {
    const proxy = oneLine("apt.proxy", s.apt.proxy);
    lines.push(`Acquire::http::Proxy "${proxy}";`, `Acquire::https::Proxy "${proxy}";`);
  }
  if (s.apt.userAgent) {
    const ua = oneLine("apt.userAgent", s.apt.userAgent);
    lines.push(`Acquire::http::User-Agent "${ua}";`, `Acquire::https::User-Agent "${ua}";`);
  }
  if (s.ca) lines.push(`Acquire::https::CaInfo "${MOUNT}/ca.pem";`);
  if (s.clientCert) lines.push(`Acquire::https::SslCert "${MOUNT}/client.pem";`);
  if (s.clientKey) lines.push(`Acquire::https::SslKey "${MOUNT}/client.key";`);
  if (Object.keys(s.credentials).length) lines.push(`Dir::Etc::netrc "${MOUNT}/netrc";`);
  lines.push(`Acquire::Check-Valid-Until "${s.apt.checkValidUntil}";`);
  return lines.join("\n") + "\n";
}

/** curl config syntax: backslash escapes inside double quotes. */
export function curlQuote(key: string, value: string): string {
  if (/[\n\r]/.test(value)) throw new KilnError(`${key} contains a line break`, "curlrc cannot carry it; remove it");
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function renderCurlrc(s: Settings): string {
  const lines = ["# kiln site settings for curl (curl -K /run/secrets/curlrc): a build secret, never stored in an image"];
  if (s.curl.proxy) lines.push(`proxy = ${curlQuote("curl.proxy", s.curl.proxy)}`);
  if (s.curl.userAgent) lines.push(`user-agent = ${curlQuote("curl.userAgent", s.curl.userAgent)}`);
  if (s.ca) lines.push(`cacert = "${MOUNT}/ca.pem"`);
  if (s.clientCert) lines.push(`cert = "${MOUNT}/client.pem"`);
  if (s.clientKey) lines.push(`key = "${MOUNT}/client.key"`);
  if (Object.keys(s.credentials).length) lines.push("netrc-optional", `netrc-file = "${MOUNT}/netrc"`);
  return lines.join("\n") + "\n";
}

/** netrc has no quoting (apt's parser splits on whitespace): refuse tokens it cannot carry. */
export function renderNetrc(s: Settings): string {
  const token = (key: string, v: string) => {
    if (v === "" || /\s/.test(v)) throw new KilnError(`${key} is empty or contains whitespace`, "netrc cannot carry it; fix the credentials in the site settings");
    return v;
  };
  return Object.entries(s.credentials)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([host, c]) => {
      const at = `credentials[${host}]`;
      return `machine ${token(at, host)}\nlogin ${token(`${at}.username`, c.username)}\npassword ${token(`${at}.password`, c.password)}\n`;
    })
    .join("");
}

function renderSiteSecret(s: Settings, id: SiteSecretId): Content {
  switch (id) {
    case "apt.conf":
      return renderAptConf(s);
    case "curlrc":
      return renderCurlrc(s);
    case "netrc":
      return renderNetrc(s);
    case "ca.pem":
      return pemOrFile("ca", s.ca);
    case "client.pem":
      return pemOrFile("clientCert", s.clientCert);
    case "client.key":
      return pemOrFile("clientKey", s.clientKey);
    case "keyring.gpg":
      return s.keyring ? readSettingFile("keyring", s.keyring) : "";
    case "goproxy":
      return s.go.proxy ? `${s.go.proxy}\n` : "";
  }
}

/**
 * The file contents for each requested secret id. Site secrets are rendered
 * from the settings (empty when their settings are unset, so every mount a
 * definition declares exists); an id in `settings.secrets` is that file,
 * and replaces a site secret of the same id.
 */
export function renderSecrets(settings: Settings, ids: readonly string[]): Record<string, Content> {
  const out: Record<string, Content> = {};
  for (const id of [...new Set(ids)].sort()) {
    if (!SAFE_ID.test(id)) throw new KilnError(`secret id ${JSON.stringify(id)} is not a plain file name`, "use letters, digits, dots, dashes and underscores");
    const extra = Object.hasOwn(settings.secrets, id) ? settings.secrets[id] : undefined;
    if (extra !== undefined) out[id] = readSettingFile(`secrets[${id}]`, extra);
    else if ((SITE_SECRET_IDS as readonly string[]).includes(id)) out[id] = renderSiteSecret(settings, id as SiteSecretId);
    else {
      const known = [...SITE_SECRET_IDS, ...Object.keys(settings.secrets)].join(", ");
      throw new KilnError(`unknown secret id ${id}`, `site secrets and settings.secrets: ${known}`);
    }
  }
  return out;
}

/**
 * Renders the secrets, writes them to a fresh 0700 folder (files 0600),
 * runs `fn` with the folder and removes it afterwards, whatever happens
 * (interruptions included). Rendering errors happen before anything is written.
 */
export async function withSecretsDir<T>(settings: Settings, ids: readonly string[], fn: (dir: string) => Promise<T>): Promise<T> {
  const files = renderSecrets(settings, ids);
  return withTempDir(
    SECRETS_PREFIX,
    async (dir) => {
      for (const [id, content] of Object.entries(files)) {
        await fsp.writeFile(path.join(dir, id), content, { mode: 0o600, flag: "wx" });
      }
      return fn(dir);
    },
    { mode: 0o700, owned: true },
  );
}

/** Secrets folders are `$TMPDIR/kiln-secrets-<pid>-XXXXXX`: the pid tells whose they are. */
const SECRETS_PREFIX = "kiln-secrets-";

/**
 * Removes the secrets folders of kiln runs that were killed outright (SIGKILL,
 * the OOM killer: no handler runs then). Every kiln command calls it as it starts.
 */
export function sweepDeadSecrets(tmp = os.tmpdir()): string[] {
  return removeDeadOwners(tmp, SECRETS_PREFIX);
}
