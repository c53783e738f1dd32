/**
 * A semantic diff of two OCI images, in the spirit of diffoci: instead of
 * "the digests differ", it says which config field, annotation or file made
 * them differ (content, mode, owner, mtime, link target, added, removed).
 */
import type { BlobRef, Descriptor, OciIndex, OciManifest, StoredImage } from "./store.ts";
import { byPath, readLayer, type BlobReader, type LayerEntry } from "./layers.ts";

/** One side of a diff: an image and where its blobs live. */
export interface ImageSide extends BlobReader {
  /** How the user named it (for headings). */
  label: string;
  image: StoredImage;
  readJson<T>(blob: BlobRef): Promise<T>;
}

export interface ImageConfig {
  os?: string;
  architecture?: string;
  variant?: string;
  author?: string;
  created?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    Labels?: Record<string, string>;
    StopSignal?: string;
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
    Shell?: string[];
    OnBuild?: string[] | null;
  };
  rootfs?: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean; author?: string }[];
}

export type DifferenceKind = "changed" | "added" | "removed" | "content" | "mode" | "owner" | "mtime" | "link" | "type" | "order";

export interface Difference {
  /** `index`, `linux/amd64 manifest`, `linux/amd64 config`, `linux/amd64 layer 2` */
  scope: string;
  /** A field (`Env PATH`, `Labels[...]`) or a file path. */
  subject: string;
  kind: DifferenceKind;
  a?: string;
  b?: string;
  /** First differing lines of a small text file: `- old`, `+ new`. */
  lines?: string[];
}

export interface ImageDiff {
  identical: boolean;
  differences: Difference[];
  /** Platforms compared. */
  platforms: string[];
}

export interface DiffOptions {
  platforms?: string[];
  /** Text lines shown per changed file (default 3). */
  contextLines?: number;
}

const show = (v: unknown): string => (v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v));

function compareValue(out: Difference[], scope: string, subject: string, a: unknown, b: unknown): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const kind: DifferenceKind = a === undefined ? "added" : b === undefined ? "removed" : "changed";
  out.push({ scope, subject, kind, a: show(a), b: show(b) });
}

function compareRecords(out: Difference[], scope: string, field: string, a: Record<string, unknown> = {}, b: Record<string, unknown> = {}): void {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const k of keys) compareValue(out, scope, `${field}[${k}]`, a[k], b[k]);
}

const envRecord = (env: string[] = []): Record<string, string> =>
  Object.fromEntries(env.map((kv) => [kv.slice(0, kv.indexOf("=") < 0 ? kv.length : kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));

/** Config differences (rootfs diff_ids are left to the layer comparison). */
export function diffConfigs(scope: string, a: ImageConfig, b: ImageConfig): Difference[] {
  const out: Difference[] = [];
  for (const k of ["os", "architecture", "variant", "author", "created"] as const) compareValue(out, scope, k, a[k], b[k]);
  const ca = a.config ?? {};
  const cb = b.config ?? {};
  compareRecords(out, scope, "Env", envRecord(ca.Env), envRecord(cb.Env));
  for (const k of ["Entrypoint", "Cmd", "User", "WorkingDir", "StopSignal", "Healthcheck", "Shell", "OnBuild"] as const) {
    compareValue(out, scope, k, ca[k] ?? undefined, cb[k] ?? undefined);
  }
  compareValue(out, scope, "ExposedPorts", Object.keys(ca.ExposedPorts ?? {}).sort(), Object.keys(cb.ExposedPorts ?? {}).sort());
  compareValue(out, scope, "Volumes", Object.keys(ca.Volumes ?? {}).sort(), Object.keys(cb.Volumes ?? {}).sort());
  compareRecords(out, scope, "Labels", ca.Labels, cb.Labels);
  const ha = a.history ?? [];
  const hb = b.history ?? [];
  for (let i = 0; i < Math.max(ha.length, hb.length); i++) compareValue(out, scope, `history[${i}]`, ha[i], hb[i]);
  return out;
}

function isText(b: Buffer): boolean {
  return !b.includes(0) && Buffer.from(b.toString("utf8"), "utf8").equals(b);
}

/** The first lines where two texts part ways, as `- a` / `+ b` lines. */
export function firstDifferingLines(a: Buffer, b: Buffer, context = 3): string[] | undefined {
  if (!isText(a) || !isText(b)) return undefined;
  const lines = (t: Buffer) => t.toString("utf8").replace(/\n$/, "").split("\n");
  const [la, lb] = [lines(a), lines(b)];
  let i = 0;
  while (i < la.length && i < lb.length && la[i] === lb[i]) i++;
  return [
    `@@ line ${i + 1}`,
    ...la.slice(i, i + context).map((l) => `- ${l}`),
    ...lb.slice(i, i + context).map((l) => `+ ${l}`),
  ];
}

const octal = (m: number) => `0${m.toString(8).padStart(3, "0")}`;

/** File-level differences between two layers' entries. */
export function diffEntries(scope: string, a: LayerEntry[], b: LayerEntry[], context = 3): Difference[] {
  const out: Difference[] = [];
  const ma = byPath(a);
  const mb = byPath(b);
  const paths = [...new Set([...ma.keys(), ...mb.keys()])].sort();
  for (const p of paths) {
    const ea = ma.get(p);
    const eb = mb.get(p);
    if (!ea) {
      out.push({ scope, subject: p, kind: "added", b: describeEntry(eb!) });
      continue;
    }
    if (!eb) {
      out.push({ scope, subject: p, kind: "removed", a: describeEntry(ea) });
      continue;
    }
    if (ea.type !== eb.type) {
      out.push({ scope, subject: p, kind: "type", a: ea.type, b: eb.type });
      continue;
    }
    if (ea.sha256 !== eb.sha256) {
      const d: Difference = { scope, subject: p, kind: "content", a: `sha256:${ea.sha256?.slice(0, 12)} (${ea.size} bytes)`, b: `sha256:${eb.sha256?.slice(0, 12)} (${eb.size} bytes)` };
      const lines = ea.content && eb.content ? firstDifferingLines(ea.content, eb.content, context) : undefined;
      if (lines) d.lines = lines;
      out.push(d);
    }
    if (ea.mode !== eb.mode) out.push({ scope, subject: p, kind: "mode", a: octal(ea.mode), b: octal(eb.mode) });
    if (ea.uid !== eb.uid || ea.gid !== eb.gid) out.push({ scope, subject: p, kind: "owner", a: `${ea.uid}:${ea.gid}`, b: `${eb.uid}:${eb.gid}` });
    if (ea.mtime !== eb.mtime) out.push({ scope, subject: p, kind: "mtime", a: new Date(ea.mtime * 1000).toISOString(), b: new Date(eb.mtime * 1000).toISOString() });
    if (ea.linkname !== eb.linkname) out.push({ scope, subject: p, kind: "link", a: show(ea.linkname), b: show(eb.linkname) });
  }
  if (out.length === 0 && a.map((e) => e.path).join("\n") !== b.map((e) => e.path).join("\n")) {
    out.push({ scope, subject: "(archive)", kind: "order", a: "entries in a different order", b: "" });
  }
  return out;
}

function describeEntry(e: LayerEntry): string {
  const what = e.type === "file" ? `file ${e.size} bytes` : e.type === "symlink" ? `symlink -> ${e.linkname}` : e.type;
  return `${what}, ${octal(e.mode)}, ${e.uid}:${e.gid}`;
}

/** Compares two images platform by platform. */
export async function diffImages(a: ImageSide, b: ImageSide, opts: DiffOptions = {}): Promise<ImageDiff> {
  const context = opts.contextLines ?? 3;
  if (a.image.digest === b.image.digest) {
    return { identical: true, differences: [], platforms: Object.keys(a.image.manifests).filter((p) => !opts.platforms || opts.platforms.includes(p)) };
  }
  const out: Difference[] = [];
  const pa: Record<string, Descriptor> = a.image.manifests;
  const pb: Record<string, Descriptor> = b.image.manifests;
  const wanted = (p: string) => !opts.platforms || opts.platforms.includes(p);
  const all = [...new Set([...Object.keys(pa), ...Object.keys(pb)])].filter(wanted).sort();
  const both = all.filter((p) => pa[p] && pb[p]);
  for (const p of all) {
    if (!pa[p]) out.push({ scope: "index", subject: p, kind: "added", b: pb[p]!.digest });
    else if (!pb[p]) out.push({ scope: "index", subject: p, kind: "removed", a: pa[p]!.digest });
  }
  if (a.image.mediaType.includes("index") && b.image.mediaType.includes("index")) {
    const [ia, ib] = [await a.readJson<OciIndex>(a.image.digest), await b.readJson<OciIndex>(b.image.digest)];
    compareRecords(out, "index", "annotations", ia.annotations, ib.annotations);
    for (const p of both) compareRecords(out, "index", `${p} descriptor annotations`, pa[p]!.annotations, pb[p]!.annotations);
  }
  for (const p of both) {
    if (pa[p]!.digest === pb[p]!.digest) continue;
    out.push(...(await diffPlatform(p, a, pa[p]!.digest, b, pb[p]!.digest, context)));
  }
  return { identical: out.length === 0, differences: out, platforms: both };
}

async function diffPlatform(p: string, a: ImageSide, da: string, b: ImageSide, db: string, context: number): Promise<Difference[]> {
  const out: Difference[] = [];
  const [ma, mb] = [await a.readJson<OciManifest>(da), await b.readJson<OciManifest>(db)];
  compareRecords(out, `${p} manifest`, "annotations", ma.annotations, mb.annotations);
  compareValue(out, `${p} manifest`, "layers", ma.layers.length, mb.layers.length);
  if (ma.config.digest !== mb.config.digest) {
    const [ca, cb] = [await a.readJson<ImageConfig>(ma.config), await b.readJson<ImageConfig>(mb.config)];
    out.push(...diffConfigs(`${p} config`, ca, cb));
  }
  for (let i = 0; i < Math.max(ma.layers.length, mb.layers.length); i++) {
    const la = ma.layers[i];
    const lb = mb.layers[i];
    const scope = `${p} layer ${i}`;
    // The same blob can be described differently: BuildKit marks layers it re-stamped
    // (buildkit/rewritten-timestamp), and its versions differ in which ones.
    if (la && lb) compareRecords(out, scope, "descriptor annotations", la.annotations, lb.annotations);
    if (la && lb && la.digest === lb.digest) continue;
    const ea = la ? await readLayer(a, la) : [];
    const eb = lb ? await readLayer(b, lb) : [];
    const found = diffEntries(scope, ea, eb, context);
    // Same files, same order, different bytes: compression or tar headers (xattrs, PAX records).
    if (found.length === 0) found.push({ scope, subject: "(archive)", kind: "changed", a: la?.digest ?? "(none)", b: lb?.digest ?? "(none)" });
    out.push(...found);
  }
  return out;
}

/** Human lines: one per difference, text excerpts indented below. */
export function formatDiff(d: ImageDiff, labels: { a: string; b: string }): string {
  if (d.identical) return `identical: ${labels.a} and ${labels.b}\n`;
  const lines = [`--- ${labels.a}`, `+++ ${labels.b}`];
  let scope = "";
  for (const x of d.differences) {
    if (x.scope !== scope) {
      scope = x.scope;
      lines.push(`${scope}:`);
    }
    const change =
      x.kind === "added" ? `added ${x.b ?? ""}` : x.kind === "removed" ? `removed ${x.a ?? ""}` : x.kind === "order" ? x.a! : `${x.a} -> ${x.b}`;
    lines.push(`  ${x.subject}: ${x.kind === "added" || x.kind === "removed" || x.kind === "order" ? "" : `${x.kind} `}${change}`.trimEnd());
    for (const l of x.lines ?? []) lines.push(`      ${l}`);
  }
  lines.push(`${d.differences.length} difference${d.differences.length === 1 ? "" : "s"}`);
  return lines.join("\n") + "\n";
}
