/**
 * The report of a catalog run: per image, what happened and why; per
 * platform, digest, sizes and layer count. Written as JSON with `--report`
 * and summed up as a short table on the terminal.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { OciStore } from "../oci/store.ts";
import { writeAtomic } from "../oci/store.ts";
import { formatBytes, imageSizes, type PlatformSize } from "./sizes.ts";
import type { CatalogState } from "./state.ts";
import { allOf } from "../util/words.ts";

export type ImageAction = "built" | "up-to-date" | "would-build" | "skipped" | "failed" | "blocked";

export interface ReportEntry {
  ref: string;
  action: ImageAction;
  /** Why it was (or would be) built, why it was skipped or blocked. */
  reasons: string[];
  error?: string;
  /** Index digest in the store. */
  digest?: string;
  durationMs?: number;
  /** Engine steps and how many came from the build cache (when the engine reported them). */
  steps?: { total: number; cached: number };
  /** Where this run pushed it (absent: not pushed). */
  pushed?: { ref: string; digest: string }[];
  /** Tags this run loaded it under into the local engine. */
  loaded?: string[];
  /** From `kiln verify` of this very digest: "verified" (two clean builds gave it), "differs", or "not verified". */
  reproducible?: "verified" | "differs" | "not verified";
  platforms: PlatformSize[];
}

export interface CatalogReport {
  startedAt: string;
  durationMs: number;
  jobs: number;
  force: boolean;
  engine?: string;
  store: string;
  images: ReportEntry[];
}

/** Completes an entry of a stored image with its sizes and reproducibility status. */
export async function reportEntry(store: OciStore, state: CatalogState, entry: Omit<ReportEntry, "platforms" | "reproducible">): Promise<ReportEntry> {
  const stored = await store.resolve(entry.ref);
  if (!stored) return { ...entry, platforms: [] };
  const verdict = await state.loadVerdict(stored.digest);
  return {
    ...entry,
    digest: stored.digest,
    reproducible: verdict === undefined ? "not verified" : verdict.reproducible ? "verified" : "differs",
    platforms: await imageSizes(store, state, stored.digest),
  };
}

export async function writeReport(file: string, report: CatalogReport): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeAtomic(file, JSON.stringify(report, null, 2) + "\n");
}

/** A fixed-width table: columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** The terminal summary: one row per image and platform, then one line of totals. */
export function describeRun(report: CatalogReport): string {
  const rows: string[][] = [];
  for (const img of report.images) {
    const action = img.action === "built" && img.steps ? `built (${img.steps.cached}/${img.steps.total} cached)` : img.action.replace(/-/g, " ");
    const time = img.durationMs !== undefined && img.action === "built" ? `${(img.durationMs / 1000).toFixed(1)}s` : "";
    const repro = img.reproducible ?? "";
    if (img.platforms.length === 0) rows.push([img.ref, "", action, "", "", "", "", time, img.error ?? img.reasons.join("; ")]);
    for (const p of img.platforms) {
      rows.push([img.ref, p.platform, action, p.manifest.slice(7, 19), formatBytes(p.compressedBytes), formatBytes(p.uncompressedBytes), String(p.layers), time, repro]);
    }
  }
  const count = (a: string) => report.images.filter((i) => i.action === a).length;
  const built = count("built");
  const parts = [`${built} built`, `${count("up-to-date")} up to date`];
  for (const a of ["would-build", "skipped", "failed", "blocked"] as const) if (count(a)) parts.push(`${count(a)} ${a.replace("-", " ")}`);
  const summary =
    built === 0 && count("up-to-date") === report.images.length
      ? `nothing to build: ${allOf(report.images.length, "image")} ${report.images.length === 1 ? "is" : "are"} up to date (${(report.durationMs / 1000).toFixed(1)}s)`
      : `${parts.join(", ")} in ${(report.durationMs / 1000).toFixed(1)}s`;
  const header = ["IMAGE", "PLATFORM", "ACTION", "DIGEST", "COMPRESSED", "UNCOMPRESSED", "LAYERS", "TIME", "NOTE"];
  return table(header, rows) + summary + "\n";
}
