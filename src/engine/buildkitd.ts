/**
 * `kiln engine setup --buildkit`: the catalog's own buildkit image, taken from
 * the local store by digest, run as a standalone buildkitd on TCP with mutual
 * TLS; its buildctl, extracted from the same image, is the client kiln uses.
 * Idempotent: a running buildkitd of the same image is kept, one of another
 * image is replaced (its state volume is kept), a container of that name that
 * is not kiln's is never touched.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { loadImage as loadIntoDocker } from "../oci/publish.ts";
import { readImageFiles } from "../oci/layers.ts";
import { digestHex } from "../oci/digest.ts";
import { writeAtomic, type OciStore, type StoredImage } from "../oci/store.ts";
import { KilnError } from "../errors.ts";
import { run } from "../util/run.ts";
import { buildctlConnectionArgs } from "./detect.ts";
import { probe } from "./probe.ts";
import { ensureTlsMaterial, type TlsMaterial } from "./tls-material.ts";

/** Where each buildkitd's TLS material and client live, one folder per container name. */
export const BUILDKITD_STATE = "/var/lib/kiln/buildkitd";
/** Label of every buildkitd container kiln runs; its value is the image index digest. */
export const BUILDKITD_LABEL = "dev.kiln.buildkitd";
/** buildkitd's TCP port inside the container (the image's BUILDKIT_PORT). */
const CONTAINER_PORT = 1234;
const BUILDCTL_IN_IMAGE = "usr/bin/buildctl";

export interface BuildkitdSpec {
  /** Container name, also the state folder's name. */
  name: string;
  /** Host address the port is published on (127.0.0.1: this machine only). */
  listen: string;
  port: number;
  /**
   * `bridge`: the container's own network, the port published on `listen`; `host`: the host's network,
   * buildkitd binding `listen` itself (it then reaches services on the host's loopback, e.g. a local
   * registry for `--cache-to`), its debug port off (several nodes on one host would collide on it).
   */
  network: "bridge" | "host";
  /** Extra names or IPs clients dial, put in the server certificate. */
  hosts: string[];
  /** What the image's definition grants at run time (`runtime.privileges`), as docker flags. */
  privilegeArgs: string[];
  stateDir?: string;
}

/** How a client reaches one buildkitd: what `kiln engine setup --buildkit` prints. */
export interface BuildkitdConnection {
  name: string;
  address: string;
  tls: { ca: string; cert: string; key: string };
  buildctl: string;
  image: string;
}

/** The `docker run` argv of a buildkitd container. Pure. */
export function buildkitdRunArgs(spec: BuildkitdSpec, tls: TlsMaterial, imageRef: string, indexDigest: string): string[] {
  const serverDir = path.join(tls.dir, "server");
  return [
    "run", "--detach", "--name", spec.name,
    "--label", `${BUILDKITD_LABEL}=${indexDigest}`,
    "--restart", "unless-stopped",
    ...spec.privilegeArgs,
    ...(spec.network === "host"
      ? ["--network", "host", "--env", `BUILDKIT_LISTEN=${spec.listen}`, "--env", `BUILDKIT_PORT=${spec.port}`, "--env", "BUILDKIT_DEBUG_PORT="]
      : ["--publish", `${spec.listen}:${spec.port}:${CONTAINER_PORT}`]),
    // The image wants ca.pem, cert.pem and key.pem in one folder: the server's pair and the CA.
    "--volume", `${path.join(serverDir, "cert.pem")}:/certs/cert.pem:ro`,
    "--volume", `${path.join(serverDir, "key.pem")}:/certs/key.pem:ro`,
    "--volume", `${tls.ca}:/certs/ca.pem:ro`,
    "--volume", `${spec.name}-data:/data`,
    "--env", "BUILDKIT_TCP=on",
    imageRef,
  ];
}

/** Address clients use: the published one, or localhost when it listens everywhere. */
export function clientAddress(spec: Pick<BuildkitdSpec, "listen" | "port">): string {
  const host = spec.listen === "0.0.0.0" ? "127.0.0.1" : spec.listen;
  return `tcp://${host.includes(":") ? `[${host}]` : host}:${spec.port}`;
}

interface Existing {
  running: boolean;
  label?: string;
}

async function inspectContainer(name: string): Promise<Existing | undefined> {
  const r = await run("docker", ["container", "inspect", "--format", `{{.State.Running}} {{index .Config.Labels "${BUILDKITD_LABEL}"}}`, name], { what: `inspect ${name}`, allowFailure: true });
  if (r.code !== 0) return undefined;
  const [running, label] = r.stdout.toString().trim().split(" ");
  return { running: running === "true", label: label && label !== "<no value>" ? label : undefined };
}

/**
 * Writes the image's buildctl for this host (named after its manifest) and
 * returns its path. kiln runs this file on the host, so it is taken only from
 * verified bytes: every layer of the manifest is read through the store's
 * digest checks before anything is written, `dir` is made only then, and the
 * file appears, executable, by one rename. A damaged image leaves no
 * executable (an earlier copy under that name is removed too).
 */
export async function extractBuildctl(store: OciStore, manifestDigest: string, dir: string): Promise<string> {
  const file = path.join(dir, `buildctl-${digestHex(manifestDigest, "buildkit image manifest").slice(0, 12)}`);
  let files;
  try {
    files = await readImageFiles(store, manifestDigest, { keepContentBytes: 256 * 1024 * 1024, keepContentOf: (p) => p === BUILDCTL_IN_IMAGE, hashFiles: false });
  } catch (e) {
    await fs.rm(file, { force: true });
    throw e;
  }
  const entry = files.get(BUILDCTL_IN_IMAGE);
  if (entry?.type !== "file" || !entry.content) throw new KilnError(`the buildkit image ${manifestDigest} has no ${BUILDCTL_IN_IMAGE}`, "rebuild it: kiln build buildkit");
  await fs.mkdir(dir, { recursive: true });
  await writeAtomic(file, entry.content, { mode: 0o755 });
  return file;
}

/** Polls `buildctl debug workers` through TLS until it answers; the container's log when it never does. */
async function waitAnswering(c: BuildkitdConnection, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    const r = await run(c.buildctl, [...buildctlConnectionArgs({ buildkitHost: c.address, tls: c.tls }), "debug", "workers"], { what: "buildctl debug workers", allowFailure: true });
    if (r.code === 0) return;
    last = r.stderr.trim().split("\n").pop() ?? "";
    await new Promise((res) => setTimeout(res, 1000));
  }
  const logs = await run("docker", ["logs", "--tail", "5", c.name], { what: "docker logs", allowFailure: true });
  const tail = `${logs.stdout.toString()}${logs.stderr}`.trim().split("\n").pop();
  throw new KilnError(`buildkitd ${c.name} did not answer at ${c.address} within ${timeoutMs / 1000} s: ${last}${tail ? ` (its log: ${tail})` : ""}`, `see docker logs ${c.name}`);
}

/**
 * Starts (or keeps) the buildkitd `spec` describes from `image` (the store's
 * buildkit image) and returns how to reach it. `hostManifest` is the image's
 * manifest for this host's platform (the container and its buildctl run here).
 */
export async function setupBuildkitd(store: OciStore, image: StoredImage, hostManifest: string, spec: BuildkitdSpec, say: (line: string) => void): Promise<BuildkitdConnection & { started: boolean }> {
  // A container of that name that is not kiln's is refused before anything is made for it.
  const existing = await inspectContainer(spec.name);
  if (existing && !existing.label) throw new KilnError(`a container named ${spec.name} exists and was not started by kiln`, "pick another name (--name) or remove that container yourself");
  const dir = path.join(spec.stateDir ?? BUILDKITD_STATE, spec.name);
  // The image is verified (its buildctl extracted) before anything else is made for it.
  const buildctl = await extractBuildctl(store, hostManifest, dir);
  const tls = await ensureTlsMaterial(path.join(dir, "certs"), ["127.0.0.1", "localhost", spec.name, ...(spec.listen === "0.0.0.0" ? [] : [spec.listen]), ...spec.hosts]);
  if (tls.made) say(`made a CA, a server and a client certificate in ${tls.dir}`);
  const connection: BuildkitdConnection = { name: spec.name, address: clientAddress(spec), tls: { ca: tls.ca, ...tls.client }, buildctl, image: image.digest };

  if (existing?.running && existing.label === image.digest) {
    say(`buildkitd ${spec.name} is already running this image`);
    await waitAnswering(connection, 60_000);
    return { ...connection, started: false };
  }
  if (existing) {
    say(`replacing buildkitd ${spec.name} (${existing.running ? "running" : "stopped"}, image ${existing.label}); its state volume is kept`);
    await run("docker", ["rm", "--force", spec.name], { what: `remove ${spec.name}` });
  }
  const ref = `kiln/buildkit:${image.digest.slice("sha256:".length, "sha256:".length + 12)}`;
  await loadIntoDocker(store, image.digest, [ref]);
  await run("docker", buildkitdRunArgs(spec, tls, ref, image.digest), { what: `start buildkitd ${spec.name}`, hint: `is port ${spec.port} free? (--port)` });
  say(`started buildkitd ${spec.name} from ${image.digest}, ${spec.network === "host" ? "on the host's network at" : "published on"} ${spec.listen}:${spec.port}`);
  await waitAnswering(connection, 60_000);
  return { ...connection, started: true };
}

/** The kiln buildkitd containers on this engine: name, state and image, for `kiln engine status`. */
export async function listBuildkitds(): Promise<{ name: string; state: string; image: string; ports: string }[]> {
  // Bounded like every engine probe: a busy daemon must not hold `kiln engine status` (it reports the daemon itself).
  const r = await probe("docker", ["ps", "--all", "--filter", `label=${BUILDKITD_LABEL}`, "--format", `{{.Names}}\t{{.State}}\t{{.Label "${BUILDKITD_LABEL}"}}\t{{.Ports}}`], { timeoutMs: 5000 });
  if (!r.ok) return [];
  return r.stdout
    .toString()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [name = "", state = "", image = "", ports = ""] = l.split("\t");
      return { name, state, image, ports };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Lines that configure kiln (and buildctl) for one buildkitd. */
export function connectionLines(c: BuildkitdConnection): string[] {
  return [
    `export BUILDKIT_HOST=${c.address}`,
    `export KILN_BUILDCTL=${c.buildctl}`,
    `export KILN_TLS_CA=${c.tls.ca} KILN_TLS_CERT=${c.tls.cert} KILN_TLS_KEY=${c.tls.key}`,
  ];
}
