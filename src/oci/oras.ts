/**
 * Referrers in a registry, through oras (Debian's package): pushing an
 * image's referrers from an OCI layout, listing the referrers of a digest,
 * fetching manifests and blobs. oras uses the registry's referrers API where
 * it has one, else the tag schema fallback (`sha256-<hex>`, an index of
 * referrer descriptors), which docker-registry 2.8 needs. Every byte read
 * back is checked against its digest.
 */
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import { hashBytes } from "../util/cas.ts";
import { run, type RunResult } from "../util/run.ts";
import { withTempDir } from "../util/temp.ts";
import { isInsecureRegistry, registryFailure, registryHost, writeAuthFile } from "./registry.ts";
import type { Referrer } from "./referrers.ts";

/** `registry/name:tag` or `registry/name@sha256:...` -> `registry/name`. */
export function repositoryOf(ref: string): string {
  const at = ref.indexOf("@");
  const noDigest = at < 0 ? ref : ref.slice(0, at);
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** `REGISTRY/NAME@sha256:<hex>` -> its repository and digest; anything else is a usage error. */
export function parseDigestRef(ref: string): { repository: string; digest: string } {
  const m = /^([^@\s]+\/[^@\s]+)@(sha256:[0-9a-f]{64})$/.exec(ref);
  if (!m || m[1]!.includes("://")) throw new KilnError(`"${ref}" is not an image reference by digest`, "name it as REGISTRY/NAME@sha256:<64 hex digits>, e.g. 127.0.0.1:5000/router@sha256:...");
  return { repository: repositoryOf(m[1]!), digest: m[2]! };
}

/** How oras reaches hosts listed as insecure: plain HTTP, or TLS without verification; learned once per host. */
const insecureMode = new Map<string, "plain-http" | "insecure">();

/**
 * Runs oras against `host` (`side`: "" for one-registry commands, "to-" or
 * "from-" for `oras cp`), with the site's credentials and TLS settings. An
 * insecure host speaks TLS without verification or plain HTTP, as skopeo
 * allows: which one is asked once, with a single request.
 */
async function oras(args: string[], host: string, side: "" | "to-" | "from-", settings: Settings, what: string): Promise<RunResult> {
  return withTempDir("kiln-oras-", async (tmp) => {
    const auth = await writeAuthFile(tmp, host, settings);
    const authFlags = (prefix: string) => (auth ? [`--${prefix}registry-config`, auth] : []);
    if (!isInsecureRegistry(host, settings)) return run("oras", [...args, ...authFlags(side)], { what, allowFailure: true });
    let mode = insecureMode.get(host);
    if (!mode) {
      // Not learned from the command itself: oras 1.2 panics when several of its parallel requests fail at once.
      const probe = await run("oras", ["repo", "ls", host, "--insecure", ...authFlags("")], { what: `reach ${host}`, allowFailure: true });
      mode = /server gave HTTP response to HTTPS client/.test(probe.stderr) ? "plain-http" : "insecure";
      insecureMode.set(host, mode);
    }
    return run("oras", [...args, `--${side}${mode}`, ...authFlags(side)], { what, allowFailure: true });
  }, { mode: 0o700 });
}

function failed(r: RunResult, what: string, host: string, hint: string): never {
  throw new KilnError(`${what}: ${registryFailure(r.stderr, host, "access")}`, hint);
}

/**
 * Pushes the referrers of `subject` (and theirs, recursively) from an OCI
 * layout to each repository; the subject itself is already there (the push
 * of the image), so only the artifacts travel.
 */
export async function pushReferrers(layoutDir: string, subject: string, repositories: string[], settings: Settings): Promise<void> {
  for (const repo of [...new Set(repositories)]) {
    const host = registryHost(repo);
    const r = await oras(["cp", "--recursive", "--from-oci-layout", `${layoutDir}@${subject}`, `${repo}@${subject}`], host, "to-", settings, `push the referrers of ${subject} to ${repo}`);
    if (r.code !== 0) failed(r, `push the attachments (lock, SBOMs) of ${subject} to ${repo}`, host, `the image itself is pushed; run the same command again once the registry ${host} answers`);
  }
}

/** The referrers of `repository@digest` in the registry (referrers API, else the fallback tag), optionally of one type. */
export async function remoteReferrers(repository: string, digest: string, settings: Settings, artifactType?: string): Promise<Referrer[]> {
  const host = registryHost(repository);
  const ref = `${repository}@${digest}`;
  const r = await oras(["discover", "--format", "json", ...(artifactType ? ["--artifact-type", artifactType] : []), ref], host, "", settings, `list the referrers of ${ref}`);
  if (r.code !== 0) {
    if (/: not found\s*$/.test(r.stderr.trim())) throw new KilnError(`${ref} is not in the registry ${host}`, "check the name and digest (kiln build ... --push prints them)");
    failed(r, `list the referrers of ${ref}`, host, `check that the registry ${host} is up and reachable from here`);
  }
  const listed = JSON.parse(r.stdout.toString("utf8")) as { manifests?: (Referrer & { reference?: string })[] };
  return (listed.manifests ?? []).map(({ reference, ...d }) => (void reference, d)).sort((a, b) => a.digest.localeCompare(b.digest));
}

/** A manifest or a blob of `repository`, by digest, checked against it. */
export async function fetchVerified(repository: string, digest: string, kind: "manifest" | "blob", settings: Settings): Promise<Buffer> {
  const host = registryHost(repository);
  const ref = `${repository}@${digest}`;
  const args = kind === "manifest" ? ["manifest", "fetch", ref] : ["blob", "fetch", "--output", "-", ref];
  const r = await oras(args, host, "", settings, `fetch ${ref}`);
  if (r.code !== 0) failed(r, `fetch ${kind} ${ref}`, host, `check that the registry ${host} is up and reachable from here`);
  if (`sha256:${hashBytes(r.stdout)}` !== digest) throw new KilnError(`the registry ${host} sent other bytes for ${ref} than its digest names`, "do not trust this registry's copy");
  return r.stdout;
}

/** Copies the image `repository@digest` (every platform, digests preserved) into an OCI layout folder. */
export async function pullToLayout(repository: string, digest: string, layoutDir: string, settings: Settings): Promise<void> {
  const host = registryHost(repository);
  const ref = `${repository}@${digest}`;
  const r = await oras(["cp", ref, "--to-oci-layout", `${layoutDir}@${digest}`], host, "from-", settings, `pull ${ref}`);
  if (r.code !== 0) failed(r, `pull ${ref}`, host, `check that the registry ${host} is up and reachable from here`);
}
