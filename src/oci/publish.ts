/**
 * Publishing from the store: exactly the bytes that were built, digests
 * preserved. Push goes through skopeo (`--all --preserve-digests`), load
 * streams an OCI archive into `docker load`.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import { hashBytes } from "../util/cas.ts";
import { run } from "../util/run.ts";
import { streamLayoutArchive } from "./archive.ts";
import type { OciStore } from "./store.ts";

/** `registry/name:tag` -> `registry` (the host part, for credentials and TLS). */
export function registryHost(ref: string): string {
  return ref.split("/")[0]!;
}

/** Pushes one stored image under each ref; returns the digest the registry reports for each. */
export async function pushImage(store: OciStore, digest: string, refs: string[], settings: Settings): Promise<{ ref: string; digest: string }[]> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-push-"));
  await fs.chmod(tmp, 0o700);
  try {
    const layout = path.join(tmp, "layout");
    await store.exportLayout(digest, layout);
    const pushed: { ref: string; digest: string }[] = [];
    for (const ref of refs) {
      const host = registryHost(ref);
      const tlsOff = settings.insecureRegistries.includes(host);
      const auth = await authFile(tmp, host, settings);
      const common = [...(tlsOff ? ["--dest-tls-verify=false"] : []), ...(auth ? ["--dest-authfile", auth] : [])];
      await run("skopeo", ["copy", "--quiet", "--all", "--preserve-digests", ...common, `oci:${layout}`, `docker://${ref}`], {
        what: `push ${ref}`,
        hint: `check that the registry ${host} answers and accepts pushes (credentials in the site config)`,
      });
      const inspectFlags = [...(tlsOff ? ["--tls-verify=false"] : []), ...(auth ? ["--authfile", auth] : [])];
      const raw = await run("skopeo", ["inspect", "--raw", ...inspectFlags, `docker://${ref}`], { what: `inspect ${ref}` });
      const remote = `sha256:${hashBytes(raw.stdout)}`;
      if (remote !== digest) throw new KilnError(`registry ${host} holds ${remote} for ${ref}, expected ${digest}`, "the registry rewrote the manifest; push to an OCI-compliant registry");
      pushed.push({ ref, digest: remote });
    }
    return pushed;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** A skopeo auth file for one host, in the private temp dir; undefined without credentials. */
async function authFile(dir: string, host: string, settings: Settings): Promise<string | undefined> {
  const cred = settings.credentials[host];
  if (!cred) return undefined;
  const file = path.join(dir, "auth.json");
  const auth = Buffer.from(`${cred.username}:${cred.password}`).toString("base64");
  await fs.writeFile(file, JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
  return file;
}

/** Loads one stored image (all its platforms) into the local Docker engine under each ref. */
export async function loadImage(store: OciStore, digest: string, refs: string[]): Promise<string[]> {
  if (refs.length === 0) return [];
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-load-"));
  try {
    const layout = path.join(tmp, "layout");
    await store.exportLayout(digest, layout, refs[0]);
    await dockerLoadLayout(layout);
    for (const ref of refs.slice(1)) await run("docker", ["tag", refs[0]!, ref], { what: `tag ${ref}` });
    return refs;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** Streams an OCI layout folder as a tar archive into `docker load`. */
async function dockerLoadLayout(layout: string): Promise<void> {
  const child = spawn("docker", ["load", "--quiet"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
  await streamLayoutArchive(layout, child.stdin).catch(() => undefined);
  const code = await exited;
  if (code !== 0) throw new KilnError(`docker load failed: ${stderr.trim().split("\n").pop()}`, "check `kiln engine status`");
}
