/**
 * Publishing from the store: exactly the bytes that were built, digests
 * preserved. Push goes through skopeo (`--all --preserve-digests`), load
 * streams an OCI archive into `docker load`.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import { stopOnInterrupt } from "../util/interrupt.ts";
import { run, startFailure } from "../util/run.ts";
import { withTempDir } from "../util/temp.ts";
import { streamLayoutArchive } from "./archive.ts";
import { pushReferrers, repositoryOf } from "./oras.ts";
import { exportReferrers } from "./referrers.ts";
import { isInsecureRegistry, registryFailure, registryHost, remoteDigest, writeAuthFile } from "./registry.ts";
import type { OciStore } from "./store.ts";

/** Pushes one stored image under each ref; returns the digest the registry reports for each. */
export async function pushImage(store: OciStore, digest: string, refs: string[], settings: Settings): Promise<{ ref: string; digest: string }[]> {
  // 0700: the auth file for the registry lives here too.
  return withTempDir("kiln-push-", async (tmp) => {
    const layout = path.join(tmp, "layout");
    await store.exportLayout(digest, layout);
    const pushed: { ref: string; digest: string }[] = [];
    for (const ref of refs) {
      const host = registryHost(ref);
      const insecure = isInsecureRegistry(host, settings);
      const authFile = await writeAuthFile(tmp, host, settings);
      const common = [...(insecure ? ["--dest-tls-verify=false"] : []), ...(authFile ? ["--dest-authfile", authFile] : [])];
      const copied = await run("skopeo", ["copy", "--quiet", "--all", "--preserve-digests", ...common, `oci:${layout}`, `docker://${ref}`], { what: `push ${ref}`, allowFailure: true });
      if (copied.code !== 0) {
        const done = pushed.length ? ` (pushed before it: ${pushed.map((p) => p.ref).join(", ")})` : "";
        throw new KilnError(`push ${ref}: ${registryFailure(copied.stderr, host)}${done}`, `nothing else was pushed; the image stays in the store: run the same command again once the registry ${host} answers and accepts pushes (credentials in the site config)`);
      }
      const remote = await remoteDigest(ref, { insecure, authFile });
      if (remote !== digest) throw new KilnError(`registry ${host} holds ${remote} for ${ref}, expected ${digest}`, "the registry rewrote the manifest; push to an OCI-compliant registry");
      pushed.push({ ref, digest: remote });
    }
    // The attachments (lock, SBOMs) go once per repository, after the image they refer to is there.
    if (await exportReferrers(store, digest, layout)) await pushReferrers(layout, digest, refs.map(repositoryOf), settings);
    return pushed;
  }, { mode: 0o700 });
}

/** Sockets of the containerd that a local dockerd runs (its own, or the system one). */
const CONTAINERD_SOCKETS = ["/var/run/docker/containerd/containerd.sock", "/run/containerd/containerd.sock"];

/**
 * The containerd of the docker daemon kiln talks to, when that is the local
 * default one; with DOCKER_HOST pointing elsewhere, a containerd socket here
 * belongs to another daemon, and loading into it would load into the wrong engine.
 */
async function dockerdContainerd(): Promise<string | undefined> {
  const host = process.env.DOCKER_HOST;
  if (host && host !== "unix:///var/run/docker.sock") return undefined;
  return firstExisting(CONTAINERD_SOCKETS);
}

/** `kiln/x:1` -> `docker.io/kiln/x:1`: the containerd image store keeps fully qualified names. */
export function qualifiedName(ref: string): string {
  const first = ref.split("/")[0]!;
  if (ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")) return ref;
  return ref.includes("/") ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

/**
 * Loads one stored image, every platform of it, into the local Docker engine
 * under each ref. With the containerd image store, `docker load` keeps only
 * the host's platform, so the archive goes straight to dockerd's containerd
 * (namespace moby) when it is the local daemon's; otherwise `docker load`.
 */
export async function loadImage(store: OciStore, digest: string, refs: string[]): Promise<string[]> {
  if (refs.length === 0) return [];
  return withTempDir("kiln-load-", async (tmp) => {
    const layout = path.join(tmp, "layout");
    await store.exportLayout(digest, layout, qualifiedName(refs[0]!));
    const socket = await dockerdContainerd();
    if (socket) await streamInto("ctr", ["--address", socket, "--namespace", "moby", "images", "import", "--all-platforms", "-"], layout);
    else await streamInto("docker", ["load", "--quiet"], layout);
    for (const ref of refs.slice(1)) await run("docker", ["tag", refs[0]!, ref], { what: `tag ${ref}` });
    return refs;
  });
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths) if (await fs.access(p).then(() => true, () => false)) return p;
  return undefined;
}

/** Streams an OCI layout folder as a tar archive into a loader's stdin. */
async function streamInto(cmd: string, args: string[], layout: string): Promise<void> {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  const forget = stopOnInterrupt(child);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", (e: NodeJS.ErrnoException) => reject(startFailure(e, cmd, "loading into the engine")));
    child.on("close", (code) => resolve(code ?? 1));
  }).finally(forget);
  // Settled while the archive is still streaming when the loader cannot start: handled below, not unhandled.
  exited.catch(() => undefined);
  await streamLayoutArchive(layout, child.stdin).catch(() => undefined);
  const code = await exited;
  if (code !== 0) throw new KilnError(`loading into the engine failed (${cmd}): ${stderr.trim().split("\n").pop()}`, "check `kiln engine status`");
}
