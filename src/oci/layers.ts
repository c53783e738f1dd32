/**
 * Reading image layers: each layer blob is a (gzip-compressed) tar; we stream
 * it once and keep, per entry, what a diff or a policy check needs (type,
 * mode, owner, mtime, link target, content hash) plus the bytes of small
 * files, so no layer is ever unpacked to disk.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { KilnError } from "../errors.ts";

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
  /** Keep the bytes only of the paths this accepts (all by default). */
  keepContentOf?: (path: string) => boolean;
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

/** Opens a layer blob as a tar stream, decompressing by media type (or magic bytes when unknown). */
async function openTar(blobPath: string, mediaType: string): Promise<Readable> {
  if (mediaType.includes("zstd")) throw new KilnError(`layer ${blobPath} is zstd-compressed`, "kiln reads gzip and uncompressed layers");
  const raw = createReadStream(blobPath);
  const gzip = mediaType.endsWith("gzip") || (!mediaType.endsWith(".tar") && (await startsWithGzipMagic(blobPath)));
  return gzip ? raw.pipe(createGunzip()) : raw;
}

async function startsWithGzipMagic(file: string): Promise<boolean> {
  const head = createReadStream(file, { start: 0, end: 1 });
  const chunks: Buffer[] = [];
  for await (const c of head) chunks.push(c as Buffer);
  const b = Buffer.concat(chunks);
  return b[0] === 0x1f && b[1] === 0x8b;
}

/** Every entry of a layer, in archive order. */
export async function readLayer(blobPath: string, mediaType: string, opts: ReadLayerOptions = {}): Promise<LayerEntry[]> {
  const keep = opts.keepContentBytes ?? 64 * 1024;
  const extract = tar.extract();
  const source = await openTar(blobPath, mediaType);
  source.on("error", (e) => extract.destroy(e));
  source.pipe(extract);
  const entries: LayerEntry[] = [];
  try {
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
      if (h.linkname) out.linkname = type === "hardlink" ? normalizeEntryPath(h.linkname) : h.linkname;
      const hash = createHash("sha256");
      const kept: Buffer[] = [];
      const keepThis = !opts.keepContentOf || opts.keepContentOf(out.path);
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        hash.update(chunk);
        if (out.size <= keep && keepThis) kept.push(chunk);
      }
      if (type === "file") {
        out.sha256 = hash.digest("hex");
        if (out.size <= keep && keepThis) out.content = Buffer.concat(kept);
      }
      entries.push(out);
    }
  } catch (e) {
    throw new KilnError(`cannot read layer ${blobPath}: ${(e as Error).message}`, "the store may be corrupt; rebuild the image");
  }
  return entries;
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
  const removeTree = (p: string, keepSelf: boolean) => {
    if (!keepSelf) view.delete(p);
    for (const key of [...view.keys()]) if (p === "" || key.startsWith(`${p}/`)) view.delete(key);
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
      view.set(e.path, e);
    }
  }
  return view;
}
