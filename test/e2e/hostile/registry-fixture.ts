/**
 * A hostile registry's content, written straight through the registry API
 * (the local docker-registry 2.8 on 127.0.0.1:5000): a small image and lock
 * attachments whose build record says whatever the test wants, listed under
 * the referrers fallback tag exactly as `kiln build --push` lists them.
 * Anyone who can push can do this; kiln must not believe any of it.
 */
import { createHash } from "node:crypto";
import { lockArtifact, type BuildRecord } from "../../../src/build/attachments.ts";
import { artifactManifest, fallbackTag, referrerOf, referrersIndex, EMPTY_CONFIG } from "../../../src/oci/referrers.ts";
import type { Descriptor } from "../../../src/oci/store.ts";

export const REGISTRY = "127.0.0.1:5000";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const INDEX = "application/vnd.oci.image.index.v1+json";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function pushBlob(repo: string, bytes: Buffer): Promise<void> {
  const start = await fetch(`http://${REGISTRY}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  if (start.status !== 202) throw new Error(`blob upload to ${repo}: ${start.status}`);
  const location = new URL(start.headers.get("location")!, `http://${REGISTRY}`);
  location.searchParams.set("digest", sha(bytes));
  const put = await fetch(location, { method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: new Uint8Array(bytes) });
  if (put.status !== 201) throw new Error(`blob upload to ${repo}: ${put.status} ${await put.text()}`);
}

export async function putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer): Promise<Descriptor> {
  const put = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${reference}`, { method: "PUT", headers: { "Content-Type": mediaType }, body: new Uint8Array(bytes) });
  if (put.status !== 201) throw new Error(`manifest ${repo}:${reference}: ${put.status} ${await put.text()}`);
  return { mediaType, digest: sha(bytes), size: bytes.length };
}

/** A one-platform image with no layers, told apart by `marker` (in its config); pushed under `tag`. */
export async function pushTinyImage(repo: string, tag: string, marker: string): Promise<Descriptor> {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Labels: { marker } }, rootfs: { type: "layers", diff_ids: [] } }));
  await pushBlob(repo, config);
  await pushBlob(repo, Buffer.from("{}"));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length }, layers: [] }));
  return putManifest(repo, tag, MANIFEST, manifest);
}

/** The referrers the fallback tag of `subject` lists now. */
async function listed(repo: string, subject: string): Promise<Descriptor[]> {
  const res = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${fallbackTag(subject)}`, { headers: { Accept: INDEX } });
  return res.ok ? ((await res.json()) as { manifests: Descriptor[] }).manifests : [];
}

/** Attaches a lock with `record` in its annotations to `subject`, as kiln build does; returns the attachment's digest. */
export async function attachLock(repo: string, subject: Descriptor, lockBytes: Buffer, record: BuildRecord): Promise<string> {
  const artifact = lockArtifact(lockBytes, record);
  await pushBlob(repo, artifact.bytes);
  await pushBlob(repo, Buffer.from(EMPTY_CONFIG.data, "base64"));
  const manifest = artifactManifest(subject, artifact);
  const d = await putManifest(repo, sha(manifest), MANIFEST, manifest);
  const index = referrersIndex(await listed(repo, subject.digest), [referrerOf(manifest)]);
  await putManifest(repo, fallbackTag(subject.digest), INDEX, Buffer.from(JSON.stringify(index)));
  return d.digest;
}
