/**
 * Reaching a registry the way the site settings say: over plain HTTP or with
 * a self-signed certificate for the `insecureRegistries`, with the
 * `credentials` of its host. Shared by push (skopeo) and signatures (cosign).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import { hashBytes } from "../util/cas.ts";
import { run } from "../util/run.ts";

/** `registry/name:tag` -> `registry` (the host part, for credentials and TLS). */
export function registryHost(ref: string): string {
  return ref.split("/")[0]!;
}

/** Whether the settings mark this registry host as plain HTTP or self-signed. */
export function isInsecureRegistry(host: string, settings: Settings): boolean {
  return settings.insecureRegistries.includes(host);
}

/** The name of the auth file in its folder: `config.json`, so cosign finds it through DOCKER_CONFIG=<folder>. */
export const AUTH_FILE_NAME = "config.json";

/**
 * A Docker-style auth file (`{"auths": {host: {auth}}}`) for one host, written
 * 0600 into `dir` (a private temp folder); undefined without credentials.
 * skopeo reads it with `--authfile`, cosign with `DOCKER_CONFIG=dir`.
 */
export async function writeAuthFile(dir: string, host: string, settings: Settings): Promise<string | undefined> {
  const cred = settings.credentials[host];
  if (!cred) return undefined;
  const file = path.join(dir, AUTH_FILE_NAME);
  const auth = Buffer.from(`${cred.username}:${cred.password}`).toString("base64");
  await fs.writeFile(file, JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
  return file;
}

export interface RegistryAccess {
  insecure: boolean;
  authFile?: string;
}

/**
 * The digest of the manifest (or index) a registry serves for a reference:
 * the sha256 of its bytes, exactly as served. For a `@sha256:` reference the
 * bytes must hash to that digest.
 */
export async function remoteDigest(ref: string, access: RegistryAccess): Promise<string> {
  const flags = [...(access.insecure ? ["--tls-verify=false"] : []), ...(access.authFile ? ["--authfile", access.authFile] : [])];
  const raw = await run("skopeo", ["inspect", "--raw", ...flags, `docker://${ref}`], { what: `read ${ref}`, allowFailure: true });
  if (raw.code !== 0) throw new KilnError(`read ${ref}: ${registryFailure(raw.stderr, registryHost(ref), "access")}`, "check the reference and that the image was pushed there");
  const digest = `sha256:${hashBytes(raw.stdout)}`;
  const asked = ref.split("@")[1];
  if (asked && asked !== digest) throw new KilnError(`registry ${registryHost(ref)} serves ${digest} for ${ref}`, "the registry is not serving the bytes that digest names: do not trust it");
  return digest;
}

/**
 * Trouble reaching or reading a registry, from a tool's error message, as one
 * phrase a user can act on; undefined when the message is about something else.
 * `refusing`: what the registry refuses when it asks for credentials ("the push").
 */
export function registryProblem(msg: string, host: string, refusing = "the push"): string | undefined {
  if (/connection refused/i.test(msg)) return `the registry ${host} does not answer (connection refused)`;
  if (/no such host|server misbehaving/i.test(msg)) return `the registry ${host} is not known (DNS: no such host)`;
  if (/i\/o timeout|deadline exceeded|TLS handshake timeout/i.test(msg)) return `the registry ${host} does not answer (timed out)`;
  if (/unauthorized|authentication required|denied/i.test(msg)) return `the registry ${host} refuses ${refusing} (${msg.split(": ").pop()})`;
  if (/server gave HTTP response to HTTPS client/i.test(msg)) return `the registry ${host} speaks plain HTTP: add it to insecureRegistries`;
  if (/x509:|certificate signed by unknown authority/i.test(msg)) return `the registry ${host} has a certificate this host does not trust: add it to insecureRegistries`;
  if (/manifest unknown|name unknown/i.test(msg)) return `the registry ${host} has no such image (${msg.split(": ").pop()})`;
  return undefined;
}

/** The last words of skopeo (`level=fatal msg="..."`) or oras (`Error: ...`), as one line a user can act on. */
export function registryFailure(stderr: string, host: string, refusing = "the push"): string {
  const last = stderr.trim().split("\n").filter(Boolean).pop() ?? "";
  const msg = (last.match(/msg="((?:[^"\\]|\\.)*)"/)?.[1] ?? last).replace(/\\"/g, '"').replace(/^Error: /, "");
  return registryProblem(msg, host, refusing) ?? (msg || "skopeo failed");
}
