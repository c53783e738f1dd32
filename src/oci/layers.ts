/**
 * Reading image layers: each layer blob is a (gzip-compressed) tar; we stream
 * it once and keep, per entry, what a diff or a policy check needs (type,
 * mode, owner, mtime, link target, content hash) plus the bytes of small
 * files, so no layer is ever unpacked to disk.
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { isKilnError, KilnError } from "../errors.ts";
import type { Descriptor, OciManifest, OciStore } from "./store.ts";

/** Where layer blobs come from: the store's verified reads (never a path opened directly). */
export type BlobReader = Pick<OciStore, "openBlob" | "verifyBlob">;
/** A layer to read: what its manifest says about it. */
export type LayerRef = Pick<Descriptor, "digest" | "size" | "mediaType">;

export type EntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo" | "other";

export interface LayerEntry {
  /** Path without leading `./` or `/`; directories without a trailing slash. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  size: number;
  linkname?: string;
  /** sha256 hex of the content (regular files only). */
  sha256?: string;
  /** The content of files up to `keepContentBytes` (for text diffs). */
  content?: Buffer;
}

export interface ReadLayerOptions {
  /** Keep the bytes of regular files up to this size (default 64 KiB; 0 keeps none). */
  keepContentBytes?: number;
  /** Keep the bytes of these paths only (still up to `keepContentBytes`): a reader after a few files keeps no others in memory. */
  keepContentOf?: (path: string) => boolean;
  /** Hash every regular file (`sha256`; default true). A reader after a few files' bytes skips it: most of a large layer's cost. */
  hashFiles?: boolean;
}

const TAR_TYPES: Record<string, EntryType> = {
  file: "file",
  "contiguous-file": "file",
  directory: "dir",
  symlink: "symlink",
  link: "hardlink",
  "character-device": "char",
  "block-device": "block",
  fifo: "fifo",
};

export const SETUID = 0o4000;
export const SETGID = 0o2000;

export function normalizeEntryPath(p: string): string {
  return p.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
}

/** Opens a layer's verified blob stream as a tar stream, decompressing by media type (or magic bytes when unknown). */
async function openTar(blob: Readable, layer: LayerRef): Promise<Readable> {
  const gzip = layer.mediaType.endsWith("gzip") || (!layer.mediaType.endsWith(".tar") && isGzip(await peekStart(blob)));
  if (!gzip) return blob;
  const gunzip = createGunzip();
  blob.on("error", (e) => gunzip.destroy(e));
  return blob.pipe(gunzip);
}

function isGzip(head: Buffer): boolean {
  return head[0] === 0x1f && head[1] === 0x8b;
}

/** The stream's first chunk, put back: whoever reads on still sees every byte (and the digest check sees them too). */
function peekStart(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (chunk: Buffer | null) => {
      stream.off("readable", onReadable);
      stream.off("error", reject);
      if (chunk) stream.unshift(chunk);
      resolve(chunk ?? Buffer.alloc(0));
    };
    const onReadable = () => done(stream.read() as Buffer | null);
    stream.once("readable", onReadable);
    stream.once("error", reject);
  });
}

/**
 * Every entry of a layer, in archive order. Nothing is returned before the
 * whole blob has been read and found to be the one its digest names; when the
 * archive cannot be parsed, a damaged blob is named as such.
 */
export async function readLayer(store: BlobReader, layer: LayerRef, opts: ReadLayerOptions = {}): Promise<LayerEntry[]> {
  if (layer.mediaType.includes("zstd")) throw new KilnError(`layer ${layer.digest} is zstd-compressed`, "kiln reads gzip and uncompressed layers");
  const blob = store.openBlob(layer);
  try {
    return await readEntries(blob, layer, opts);
  } catch (e) {
    if (isKilnError(e)) throw e;
    await store.verifyBlob(layer); // a parse error from bytes that are not the blob's: say that instead
    throw new KilnError(`cannot read layer ${layer.digest}: ${(e as Error).message}`, "the image holds a layer kiln cannot read; rebuild it");
  } finally {
    blob.destroy();
  }
}

async function readEntries(blob: Readable, layer: LayerRef, opts: ReadLayerOptions): Promise<LayerEntry[]> {
  const keep = opts.keepContentBytes ?? 64 * 1024;
  const verified = finished(blob);
  verified.catch(() => undefined); // awaited below; the loop sees the same error first
  const extract = tar.extract();
  const source = await openTar(blob, layer);
  source.on("error", (e) => extract.destroy(e));
  source.pipe(extract);
  const entries: LayerEntry[] = [];
  for await (const entry of extract) {
    const h = entry.header;
    const type = TAR_TYPES[h.type ?? "file"] ?? "other";
    const out: LayerEntry = {
      path: normalizeEntryPath(h.name),
      type,
      mode: (h.mode ?? 0) & 0o7777,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      mtime: h.mtime ? Math.floor(h.mtime.getTime() / 1000) : 0,
      size: h.size ?? 0,
    };
    const keepThis = out.size <= keep && (opts.keepContentOf?.(out.path) ?? true);
    if (h.linkname) out.linkname = type === "hardlink" ? normalizeEntryPath(h.linkname) : h.linkname;
    const hash = opts.hashFiles === false ? undefined : createHash("sha256");
    const kept: Buffer[] = [];
    if (hash || keepThis) {
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        hash?.update(chunk);
        if (keepThis) kept.push(chunk);
      }
    } else await skipEntry(entry as unknown as Readable); // a streamx Readable: same events
    if (type === "file") {
      if (hash) out.sha256 = hash.digest("hex");
      if (keepThis) out.content = Buffer.concat(kept);
    }
    entries.push(out);
  }
  // The archive may end before the blob does (tar padding, bytes after the gzip stream): those are hashed too.
  blob.unpipe();
  blob.resume();
  await verified; // the digest check ran at the blob's end: only now are the entries believed
  return entries;
}

/** Lets an entry's bytes flow past unread. */
function skipEntry(entry: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    entry.on("end", resolve);
    entry.on("error", reject);
    entry.resume();
  });
}

/** A layer's entries by path (the last entry wins, as when a tar is unpacked). */
export function byPath(entries: LayerEntry[]): Map<string, LayerEntry> {
  return new Map(entries.map((e) => [e.path, e]));
}

/**
 * The root file system an image's layers make, in order: OCI whiteouts
 * (`.wh.name`, `.wh..wh..opq`) remove what earlier layers added; entries of
 * the same layer are never hidden by its own whiteouts.
 */
export function squash(layers: LayerEntry[][]): Map<string, LayerEntry> {
  const view = new Map<string, LayerEntry>();
  // Every path that has (or had) something below it: only those need the scan for what they hide,
  // so a layer of files over files costs one lookup per entry, not one pass over the view.
  const holders = new Set<string>([""]);
  const removeTree = (p: string, keepSelf: boolean) => {
    if (!keepSelf) view.delete(p);
    if (!holders.has(p)) return;
    for (const key of [...view.keys()]) if (p === "" || key.startsWith(`${p}/`)) view.delete(key);
  };
  const add = (e: LayerEntry) => {
    view.set(e.path, e);
    for (let i = e.path.indexOf("/"); i > 0; i = e.path.indexOf("/", i + 1)) holders.add(e.path.slice(0, i));
  };
  for (const layer of layers) {
    for (const e of layer) {
      const slash = e.path.lastIndexOf("/");
      const dir = slash < 0 ? "" : e.path.slice(0, slash);
      const base = e.path.slice(slash + 1);
      if (base === ".wh..wh..opq") removeTree(dir, true);
      else if (base.startsWith(".wh.")) removeTree((dir ? `${dir}/` : "") + base.slice(4), false);
    }
    for (const e of layer) {
      if (e.path.split("/").pop()!.startsWith(".wh.")) continue;
      // A file replacing a directory hides what was below it.
      if (e.type !== "dir") removeTree(e.path, true);
      add(e);
    }
  }
  return view;
}

/** The root file system of one platform's image in the store (its manifest's layers, squashed). */
export async function readImageFiles(store: BlobReader & Pick<OciStore, "readJson">, manifestDigest: string, opts: ReadLayerOptions = {}): Promise<Map<string, LayerEntry>> {
  const manifest = await store.readJson<OciManifest>(manifestDigest);
  const layers = [];
  for (const l of manifest.layers) layers.push(await readLayer(store, l, opts));
  return squash(layers);
}
