import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writeLayout } from "../../test/support/oci-layout.ts";
import { tempDir } from "../../test/support/temp-dir.ts";
import { buildRecordOf, lockArtifact, LOCK_ARTIFACT_TYPE, sbomArtifact } from "../build/attachments.ts";
import { hashBytes } from "../util/cas.ts";
import { artifactManifest, attachArtifact, EMPTY_CONFIG, exportReferrers, fallbackTag, listReferrers, readArtifactBlob, referrersIndex } from "./referrers.ts";
import { MEDIA_INDEX, MEDIA_MANIFEST, OciStore, type OciIndex } from "./store.ts";

const subject = { mediaType: MEDIA_INDEX, digest: `sha256:${"a".repeat(64)}`, size: 321 };
const lock = { artifactType: LOCK_ARTIFACT_TYPE, mediaType: LOCK_ARTIFACT_TYPE, bytes: Buffer.from('{"version":1}\n') };

async function storeWithImage(): Promise<{ store: OciStore; digest: string }> {
  const src = await tempDir("kiln-layout-");
  await writeLayout(src, { layers: [[{ path: "hello", content: "hi" }]] });
  const store = await OciStore.open(await tempDir("kiln-store-"));
  const stored = await store.importLayout(src, "x:image");
  return { store, digest: stored.digest };
}

describe("artifactManifest", () => {
  it("is an OCI 1.1 artifact: empty config, one blob, the image as subject", () => {
    const m = JSON.parse(artifactManifest(subject, { ...lock, annotations: { b: "2", a: "1" } }).toString());
    expect(m).toEqual({
      schemaVersion: 2,
      mediaType: MEDIA_MANIFEST,
      artifactType: LOCK_ARTIFACT_TYPE,
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size: 2, data: "e30=" },
      layers: [{ mediaType: LOCK_ARTIFACT_TYPE, digest: `sha256:${hashBytes(lock.bytes)}`, size: lock.bytes.length }],
      subject,
      annotations: { a: "1", b: "2" },
    });
    expect(Object.keys(m.annotations)).toEqual(["a", "b"]);
    expect(EMPTY_CONFIG.digest).toBe(`sha256:${hashBytes("{}")}`);
  });

  it("gives the same bytes for the same artifact, whatever the order annotations came in", () => {
    const one = artifactManifest(subject, { ...lock, annotations: { a: "1", b: "2" } });
    const two = artifactManifest({ ...subject, annotations: { ignored: "x" } }, { ...lock, annotations: { b: "2", a: "1" } });
    expect(two.equals(one)).toBe(true);
    expect(artifactManifest(subject, { ...lock, annotations: { a: "1", b: "3" } }).equals(one)).toBe(false);
  });
});

describe("referrers index (tag schema fallback)", () => {
  it("names the tag after the subject digest", () => {
    expect(fallbackTag(`sha256:${"b".repeat(64)}`)).toBe(`sha256-${"b".repeat(64)}`);
    expect(() => fallbackTag("latest")).toThrow();
  });

  it("keeps what the tag held, adds each new referrer once, sorted by digest", () => {
    const d = (c: string, t = "x") => ({ mediaType: MEDIA_MANIFEST, digest: `sha256:${c.repeat(64)}`, size: 1, artifactType: t });
    const idx = referrersIndex([d("c", "sig"), d("a")], [d("b"), d("a")]);
    expect(idx.mediaType).toBe(MEDIA_INDEX);
    expect(idx.manifests.map((m) => m.digest[7])).toEqual(["a", "b", "c"]);
    expect(idx.manifests.find((m) => m.digest.startsWith("sha256:c"))?.artifactType).toBe("sig");
  });
});

describe("attachArtifact", () => {
  it("attaches without changing the image, once per artifact, findable by subject and type", async () => {
    const { store, digest } = await storeWithImage();
    const before = await store.resolve("x:image");
    const r1 = await attachArtifact(store, digest, { ...lock, annotations: { "dev.kiln.image": "x" } });
    const r2 = await attachArtifact(store, digest, { ...lock, annotations: { "dev.kiln.image": "x" } });
    expect(r2).toEqual(r1);
    expect(r1.artifactType).toBe(LOCK_ARTIFACT_TYPE);
    expect(await store.resolve("x:image")).toEqual(before);
    expect((await store.list()).map((i) => i.digest)).toEqual([digest]);
    expect(await listReferrers(store, digest)).toEqual([r1]);
    expect(await listReferrers(store, digest, "application/spdx+json")).toEqual([]);
    expect(await listReferrers(store, `sha256:${"0".repeat(64)}`)).toEqual([]);
    expect((await readArtifactBlob(store, r1)).equals(lock.bytes)).toBe(true);
    const manifest = await store.readJson<{ subject: { digest: string; size: number } }>(r1.digest);
    expect(manifest.subject).toEqual({ mediaType: before!.mediaType, digest, size: await store.blobSize(digest) });
  });

  it("refuses a subject the store does not hold", async () => {
    const { store } = await storeWithImage();
    await expect(attachArtifact(store, `sha256:${"0".repeat(64)}`, lock)).rejects.toThrow(/no such image in the store/);
  });

  it("exports the image's referrers, and theirs, into a layout for pushing", async () => {
    const { store, digest } = await storeWithImage();
    const r = await attachArtifact(store, digest, lock);
    const sig = await attachArtifact(store, r.digest, { artifactType: "application/vnd.example.sig", mediaType: "application/octet-stream", bytes: Buffer.from("sig") });
    const out = await tempDir("kiln-export-");
    await store.exportLayout(digest, out);
    expect(await exportReferrers(store, digest, out)).toBe(2);
    const idx = JSON.parse(await fs.readFile(path.join(out, "index.json"), "utf8")) as OciIndex;
    expect(idx.manifests.map((m) => m.digest)).toEqual([digest, r.digest, sig.digest]);
    for (const blob of await store.blobsOf(sig.digest)) await fs.access(path.join(out, "blobs", "sha256", blob.slice(7)));
  });
});

describe("lock attachment", () => {
  it("records image, target, platforms and revision as fixed annotations, and reads them back", () => {
    const record = { image: "router", target: "image", platforms: ["linux/arm64", "linux/amd64"], revision: { commit: "c".repeat(40), dirty: false, source: "https://git.example/kiln" } };
    const artifact = lockArtifact(lock.bytes, record);
    expect(artifact.annotations).toEqual({
      "dev.kiln.image": "router",
      "dev.kiln.target": "image",
      "dev.kiln.platforms": "linux/amd64,linux/arm64",
      "org.opencontainers.image.revision": "c".repeat(40),
      "org.opencontainers.image.source": "https://git.example/kiln",
    });
    expect(buildRecordOf(artifact.annotations, "x")).toEqual({ ...record, platforms: ["linux/amd64", "linux/arm64"] });
    expect(artifactManifest(subject, lockArtifact(lock.bytes, record)).equals(artifactManifest(subject, artifact))).toBe(true);
  });

  it("marks a build from uncommitted changes, and keeps command-line build args", () => {
    const a = lockArtifact(lock.bytes, { image: "x", target: "image", platforms: ["linux/amd64"], buildArgs: { B: "2", A: "1" }, revision: { commit: "d".repeat(40), dirty: true } });
    expect(a.annotations?.["dev.kiln.revision.dirty"]).toBe("true");
    expect(a.annotations?.["dev.kiln.build-args"]).toBe('{"A":"1","B":"2"}');
    expect(buildRecordOf(a.annotations, "x").revision).toEqual({ commit: "d".repeat(40), dirty: true });
  });

  it("says which annotation is missing when a lock was not attached by a build", () => {
    expect(() => buildRecordOf({}, "reg/x@sha256:1")).toThrow(/does not say which image it is/);
  });
});

describe("SBOM attachment", () => {
  it("is typed by its format, names image, target and platform, and has the image index as subject", async () => {
    const { store, digest } = await storeWithImage();
    const doc = { platform: "linux/arm64", format: "cyclonedx" as const, bytes: Buffer.from('{"bomFormat":"CycloneDX"}') };
    const artifact = sbomArtifact(doc, { image: "x", target: "image" });
    expect(artifact).toMatchObject({ artifactType: "application/vnd.cyclonedx+json", mediaType: "application/vnd.cyclonedx+json" });
    expect(artifact.annotations).toEqual({ "dev.kiln.image": "x", "dev.kiln.target": "image", "dev.kiln.platform": "linux/arm64" });
    const r = await attachArtifact(store, digest, artifact);
    expect(await listReferrers(store, digest, "application/vnd.cyclonedx+json")).toEqual([r]);
    expect((await readArtifactBlob(store, r)).equals(doc.bytes)).toBe(true);
    expect((await store.resolve("x:image"))?.digest).toBe(digest);
  });
});
