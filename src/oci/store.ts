/**
 * The local store: one OCI image layout (one blob store) holding every image
 * kiln built, indexed by catalog reference (`debian:image`) and by digest.
 * Builds export here first; load, push, tests and child builds read from here,
 * so what is published is exactly what was built, digests preserved.
 */
import { createReadStream, rmSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import lockfile from "proper-lockfile";
import { diskFullError, KilnError } from "../errors.ts";
import { hashBytes, hashFile, verifyingStream, type Mismatch } from "../util/cas.ts";
import { digestHex, isDigest, requireDigest } from "./digest.ts";
import { onInterrupt } from "../util/interrupt.ts";
import { removeOrphans, temporaryName } from "../util/temp.ts";

export const MEDIA_INDEX = "application/vnd.oci.image.index.v1+json";
export const MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

/** An image index (OCI) or manifest list (Docker): a descriptor whose blob lists other manifests. */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_INDEX || mediaType === DOCKER_LIST;
}
export const REF_ANNOTATION = "org.opencontainers.image.ref.name";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  /** On a descriptor of an artifact manifest (OCI 1.1): what kind of artifact it points at. */
  artifactType?: string;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface OciIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** A stored image: its top digest and, per platform, its manifest. */
export interface StoredImage {
  ref?: string;
  digest: string;
  mediaType: string;
  /** `linux/amd64` -> manifest descriptor */
  manifests: Record<string, Descriptor>;
  annotations: Record<string, string>;
}

/** A blob to read: its digest, or its descriptor (then its size is checked too). */
export type BlobRef = string | Pick<Descriptor, "digest" | "size">;

export function platformOf(d: Descriptor): string {
  const p = d.platform;
  return p ? `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}` : "unknown";
}

const swept = new Set<string>();

export class OciStore {
  private constructor(readonly dir: string) {}

  /**
   * Opens (creating when missing) the layout at `dir`. Creation never
   * replaces a file another process wrote in the meantime: an empty index
   * written over a fresh one would drop that process's image.
   */
  static async open(dir: string): Promise<OciStore> {
    await fs.mkdir(path.join(dir, "blobs", "sha256"), { recursive: true });
    // A writer killed outright (SIGKILL, power loss) leaves its temporary file: the first open in a process sweeps them.
    if (!swept.has(path.resolve(dir))) {
      swept.add(path.resolve(dir));
      await Promise.all([removeOrphans(dir), removeOrphans(path.join(dir, "blobs", "sha256"))]);
    }
    const layout = path.join(dir, "oci-layout");
    if (!(await exists(layout))) await createOnce(layout, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    const index = path.join(dir, "index.json");
    if (!(await exists(index))) await createOnce(index, JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_INDEX, manifests: [] }));
    return new OciStore(dir);
  }

  /** Where a blob lives; refuses anything but a digest (a digest is joined to a path here). */
  blobPath(digest: string): string {
    return path.join(this.dir, "blobs", "sha256", digestHex(digest, `blob name for the store ${this.dir}`));
  }

  /**
   * The one way to read a blob: its bytes as a stream that hashes them as they
   * flow and fails at the end (or as soon as it runs past the descriptor's
   * size) when they are not the blob's. Readers act on nothing before the
   * stream has ended cleanly.
   */
  openBlob(blob: BlobRef): Readable {
    const { digest, size } = typeof blob === "string" ? { digest: blob, size: undefined } : blob;
    const file = this.blobPath(digest);
    const expectedSize = Number.isSafeInteger(size) ? size : undefined;
    const check = verifyingStream({ expectedHex: digest.slice("sha256:".length), expectedSize, mismatch: (m) => this.corruptBlob(digest, file, m, expectedSize) });
    const raw = createReadStream(file);
    raw.on("error", (e: NodeJS.ErrnoException) => {
      check.destroy(e.code === "ENOENT" ? new KilnError(`blob ${digest} is missing from the store ${this.dir}`, "build the image that holds it again") : e);
    });
    return raw.pipe(check);
  }

  private corruptBlob(digest: string, file: string, m: Mismatch, expectedSize: number | undefined): KilnError {
    const why = m.overSize
      ? `it is larger than the ${expectedSize} bytes its descriptor says`
      : expectedSize !== undefined && m.actualSize !== expectedSize
        ? `it has ${m.actualSize} bytes, its descriptor says ${expectedSize}`
        : `its bytes hash to sha256:${m.actualHex}`;
    return new KilnError(`blob ${digest} in the store ${this.dir} is corrupt: ${why}`, `remove ${file} and build the image that holds it again`);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return exists(this.blobPath(digest));
  }

  async blobSize(digest: string): Promise<number> {
    return (await fs.stat(this.blobPath(digest))).size;
  }

  /** Reads a blob through to its end only to check it: throws the same error a reader would get. */
  async verifyBlob(blob: BlobRef): Promise<void> {
    for await (const chunk of this.openBlob(blob)) void chunk;
  }

  /** A blob's bytes, checked against its digest (a damaged store is an error, not silently wrong data). */
  async readBlob(blob: BlobRef): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.openBlob(blob)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** A JSON blob (manifest, index, config), checked like every blob read. */
  async readJson<T>(blob: BlobRef): Promise<T> {
    const bytes = await this.readBlob(blob);
    try {
      return JSON.parse(bytes.toString("utf8")) as T;
    } catch {
      const digest = typeof blob === "string" ? blob : blob.digest;
      throw new KilnError(`blob ${digest} in the store ${this.dir} is not JSON`, `remove ${this.blobPath(digest)} and build the image that holds it again`);
    }
  }

  /** index.json, every entry's digest checked: the file is not content-addressed, so its entries are checked as they enter. */
  async index(): Promise<OciIndex> {
    const file = path.join(this.dir, "index.json");
    let idx: OciIndex;
    try {
      idx = JSON.parse(await fs.readFile(file, "utf8")) as OciIndex;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      throw new KilnError(`the store's index ${file} is not JSON`, `restore it, or remove the store ${this.dir} and build again`);
    }
    if (!Array.isArray(idx.manifests)) throw new KilnError(`the store's index ${file} has no manifests list`, `restore it, or remove the store ${this.dir} and build again`);
    for (const d of idx.manifests) requireDigest(d?.digest, `the store's index ${file}`, `remove that entry from ${file}, or the store ${this.dir}, and build again`);
    return idx;
  }

  /** Every stored reference, newest entry per reference (artifacts attached to images are not images: left out). */
  async list(): Promise<StoredImage[]> {
    const idx = await this.index();
    return Promise.all(idx.manifests.filter((d) => !d.artifactType).map((d) => this.describe(d)));
  }

  /** Finds an image by catalog reference (`debian:image`) or digest (`sha256:...`). */
  async resolve(refOrDigest: string): Promise<StoredImage | undefined> {
    // `sha256:` is never a catalog name: what starts so is a digest, or refused.
    if (refOrDigest.startsWith("sha256:")) requireDigest(refOrDigest, "image");
    const idx = await this.index();
    const byRef = idx.manifests.find((d) => d.annotations?.[REF_ANNOTATION] === refOrDigest);
    if (byRef) return this.describe(byRef);
    if (isDigest(refOrDigest) && (await this.hasBlob(refOrDigest))) {
      const known = idx.manifests.find((d) => d.digest === refOrDigest);
      if (known) return this.describe(known);
      const raw = await this.readJson<{ mediaType?: string; manifests?: unknown }>(refOrDigest);
      const mediaType = raw.mediaType ?? (raw.manifests ? MEDIA_INDEX : MEDIA_MANIFEST);
      const size = (await fs.stat(this.blobPath(refOrDigest))).size;
      return this.describe({ mediaType, digest: refOrDigest, size });
    }
    return undefined;
  }

  async require(refOrDigest: string): Promise<StoredImage> {
    const found = await this.resolve(refOrDigest);
    if (!found) throw new KilnError(`image ${refOrDigest} is not in the local store (${this.dir})`, `build it first: kiln build ${refOrDigest.split(":")[0]}`);
    return found;
  }

  private async describe(top: Descriptor): Promise<StoredImage> {
    const manifests: Record<string, Descriptor> = {};
    if (isIndexMediaType(top.mediaType)) {
      const idx = await this.readJson<OciIndex>(top);
      for (const m of idx.manifests) {
        // Attestation manifests carry platform unknown/unknown: not an image.
        if (m.platform && m.platform.os !== "unknown") manifests[platformOf(m)] = m;
      }
    } else {
      const manifest = await this.readJson<OciManifest>(top);
      const config = await this.readJson<{ os: string; architecture: string; variant?: string }>(manifest.config);
      manifests[`${config.os}/${config.architecture}${config.variant ? `/${config.variant}` : ""}`] = top;
    }
    return { ref: top.annotations?.[REF_ANNOTATION], digest: top.digest, mediaType: top.mediaType, manifests, annotations: top.annotations ?? {} };
  }

  /**
   * Copies an OCI layout produced by the engine into the store (blobs verified
   * by hash) and points `ref` at its top descriptor.
   */
  async importLayout(srcDir: string, ref: string, annotations: Record<string, string> = {}): Promise<StoredImage> {
    try {
      return await this.importLayoutOrThrow(srcDir, ref, annotations);
    } catch (e) {
      // Blobs copied before the disk filled up are whole and verified (each lands by rename): the next import reuses them.
      throw diskFullError(e, `the store ${this.dir} is full: ${ref} was not stored`, "the store is unchanged and its earlier images are intact") ?? e;
    }
  }

  private async importLayoutOrThrow(srcDir: string, ref: string, annotations: Record<string, string>): Promise<StoredImage> {
    const srcIndex = JSON.parse(await fs.readFile(path.join(srcDir, "index.json"), "utf8")) as OciIndex;
    const top = srcIndex.manifests[0];
    if (!top || srcIndex.manifests.length !== 1) throw new Error(`expected one image in ${srcDir}, found ${srcIndex.manifests.length}`);
    const blobsDir = path.join(srcDir, "blobs", "sha256");
    for (const hex of await fs.readdir(blobsDir)) {
      const digest = `sha256:${hex}`;
      if (await this.hasBlob(digest)) continue;
      const src = path.join(blobsDir, hex);
      const actual = await hashFile(src);
      if (actual !== hex) throw new Error(`engine export is corrupt: blob ${hex} hashes to ${actual}`);
      const tmp = temporaryName(this.blobPath(digest));
      await removeOnFailure(tmp, async () => {
        await fs.copyFile(src, tmp);
        await fs.rename(tmp, this.blobPath(digest));
      });
    }
    const { annotations: engineAnnotations, ...plain } = top;
    void engineAnnotations;
    const entry: Descriptor = { ...plain, annotations: { ...annotations, [REF_ANNOTATION]: ref } };
    await this.updateIndex((idx) => {
      idx.manifests = idx.manifests.filter((d) => d.annotations?.[REF_ANNOTATION] !== ref);
      idx.manifests.push(entry);
      idx.manifests.sort((a, b) => (a.annotations?.[REF_ANNOTATION] ?? "").localeCompare(b.annotations?.[REF_ANNOTATION] ?? ""));
    });
    return this.describe(entry);
  }

  /** Merges annotations into the entry of `ref` (the image itself is untouched); false when `ref` is not stored. */
  async annotate(ref: string, annotations: Record<string, string>): Promise<boolean> {
    let found = false;
    await this.updateIndex((idx) => {
      const entry = idx.manifests.find((d) => d.annotations?.[REF_ANNOTATION] === ref);
      if (!entry) return;
      found = true;
      entry.annotations = { ...entry.annotations, ...annotations, [REF_ANNOTATION]: ref };
    });
    return found;
  }

  /** Stores bytes as a blob (verified by name: the digest is computed here); returns its digest and size. */
  async writeBlob(bytes: Buffer): Promise<{ digest: string; size: number }> {
    const digest = `sha256:${hashBytes(bytes)}`;
    if (!(await this.hasBlob(digest))) await writeAtomic(this.blobPath(digest), bytes);
    return { digest, size: bytes.length };
  }

  /**
   * Lists a manifest in index.json without a reference name (an artifact
   * attached to an image): it keeps its blobs and can be found by walking the
   * index, as OCI layout readers do. The same digest is listed once.
   */
  async addUntagged(entry: Descriptor): Promise<void> {
    await this.updateIndex((idx) => {
      if (idx.manifests.some((d) => d.digest === entry.digest && !d.annotations?.[REF_ANNOTATION])) return;
      idx.manifests.push(entry);
    });
  }

  /** Every blob an image needs (top, manifests, configs, layers). */
  async blobsOf(digest: string): Promise<string[]> {
    const out = new Set<string>([digest]);
    const raw = await this.readJson<OciIndex & OciManifest>(digest);
    if (raw.manifests) for (const m of raw.manifests) for (const b of await this.blobsOf(m.digest)) out.add(b);
    if (raw.config) {
      out.add(raw.config.digest);
      for (const l of raw.layers) out.add(l.digest);
    }
    return [...out];
  }

  /**
   * Writes a standalone OCI layout holding one image (hard links where the
   * file system allows): what skopeo pushes and `docker load` reads.
   */
  async exportLayout(digest: string, destDir: string, refName?: string): Promise<void> {
    const image = await this.require(digest);
    await this.linkBlobs(await this.blobsOf(digest), destDir);
    const size = (await fs.stat(this.blobPath(digest))).size;
    const annotations = refName ? { [REF_ANNOTATION]: refName, "io.containerd.image.name": refName } : undefined;
    await fs.writeFile(path.join(destDir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    await fs.writeFile(
      path.join(destDir, "index.json"),
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_INDEX, manifests: [{ mediaType: image.mediaType, digest, size, ...(annotations ? { annotations } : {}) }] }),
    );
  }

  /** Puts blobs into another layout folder (hard links where the file system allows). */
  async linkBlobs(digests: string[], destDir: string): Promise<void> {
    await fs.mkdir(path.join(destDir, "blobs", "sha256"), { recursive: true });
    for (const blob of digests) {
      const dest = path.join(destDir, "blobs", "sha256", blob.slice("sha256:".length));
      if (await exists(dest)) continue;
      await fs.link(this.blobPath(blob), dest).catch(() => fs.copyFile(this.blobPath(blob), dest));
    }
  }

  /** Read-modify-write of index.json under an inter-process lock; the write is atomic. */
  private async updateIndex(change: (idx: OciIndex) => void): Promise<void> {
    const file = path.join(this.dir, "index.json");
    const release = await lockfile.lock(file, { retries: { retries: 50, minTimeout: 50, maxTimeout: 500 }, stale: 30_000 });
    try {
      const idx = await this.index();
      change(idx);
      await writeAtomic(file, JSON.stringify(idx, null, 2) + "\n");
    } finally {
      await release();
    }
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** Runs `write`, which creates `tmp`; if it fails (a full disk) or kiln is interrupted meanwhile, `tmp` goes too. */
async function removeOnFailure(tmp: string, write: () => Promise<void>): Promise<void> {
  const forget = onInterrupt(() => rmSync(tmp, { force: true }));
  try {
    await write();
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  } finally {
    forget();
  }
}

/**
 * Replaces `file` whole or not at all: readers see the old or the new content,
 * never a part. `mode` is set on the whole temporary file, just before the
 * rename: an executable never exists half-written under its name.
 */
export async function writeAtomic(file: string, content: string | Buffer, opts: { mode?: number } = {}): Promise<void> {
  const tmp = temporaryName(file);
  await removeOnFailure(tmp, async () => {
    // With a mode asked for, the file is private until whole, then given that mode.
    await fs.writeFile(tmp, content, opts.mode === undefined ? undefined : { mode: 0o600 });
    if (opts.mode !== undefined) await fs.chmod(tmp, opts.mode);
    await fs.rename(tmp, file);
  });
}

/** Creates `file` whole, unless it exists already (then it is left as it is). */
async function createOnce(file: string, content: string): Promise<void> {
  const tmp = temporaryName(file);
  await removeOnFailure(tmp, async () => {
    await fs.writeFile(tmp, content);
    // link() fails when the target exists, where rename() would replace it.
    await fs.link(tmp, file).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw e;
    });
    await fs.rm(tmp, { force: true });
  });
}
