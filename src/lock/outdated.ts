/**
 * `kiln outdated`: what the current signed Debian indices hold that is newer
 * than an image's locked packages, as a report (stable JSON) and as text
 * grouped by image. The comparison itself belongs to the Debian room
 * (src/debian/updates.ts); this maps locks onto it and renders the result.
 */
import type { CheckedSuite, CurrentIndices, PendingUpdate } from "../debian/updates.ts";
import type { Lock } from "./schema.ts";

export const OUTDATED_REPORT_VERSION = 1;

export interface ImageUpdates {
  image: string;
  suite: string;
  /** The snapshot the lock was resolved at. */
  snapshot: string;
  /** The parent the packages were resolved on top of (its own packages are reported under it). */
  onTopOf: string | null;
  /** Locked packages, per lock architecture. */
  packages: Record<string, number>;
  /** Per lock architecture, the packages with a newer published version (sorted by name). */
  architectures: Record<string, PendingUpdate[]>;
  /** What brings the lock up to date, or null when it is. */
  refresh: string | null;
}

export interface OutdatedReport {
  reportVersion: typeof OUTDATED_REPORT_VERSION;
  /** Every suite compared against, with the date of its signed Release. */
  suites: CheckedSuite[];
  images: ImageUpdates[];
  /** Pending updates over all images and architectures, and how many of them are security updates. */
  updates: number;
  security: number;
}

export const refreshCommand = (image: string) => `kiln refresh ${image} --only debian`;

/** The report for some images' locks (images without locked Debian packages are left out). */
export async function outdatedReport(locks: { image: string; lock: Lock }[], indices: CurrentIndices): Promise<OutdatedReport> {
  const withDebian = locks.filter((l) => l.lock.debian).sort((a, b) => a.image.localeCompare(b.image));
  const images = await Promise.all(
    withDebian.map(async ({ image, lock }): Promise<ImageUpdates> => {
      const debian = lock.debian!;
      const architectures = await indices.updatesOf(debian.suite, debian.packages);
      const pending = Object.values(architectures).some((u) => u.length > 0);
      const onTopOf = debian.request.onTopOf;
      return {
        image,
        suite: debian.suite,
        snapshot: debian.snapshot,
        onTopOf: onTopOf ? (lock.parents?.[onTopOf]?.ref ?? onTopOf) : null,
        packages: Object.fromEntries(Object.entries(debian.packages).sort().map(([a, debs]) => [a, debs.length])),
        architectures,
        refresh: pending ? refreshCommand(image) : null,
      };
    }),
  );
  const releases = [...new Set(withDebian.map((l) => l.lock.debian!.suite))].sort();
  const suites = (await Promise.all(releases.map((r) => indices.checked(r)))).flat();
  const all = images.flatMap((i) => Object.values(i.architectures).flat());
  return { reportVersion: OUTDATED_REPORT_VERSION, suites, images, updates: all.length, security: all.filter((u) => u.security).length };
}

/** Images with a pending update, security ones only when `securityOnly`. */
export function imagesPending(report: OutdatedReport, securityOnly: boolean): string[] {
  return report.images.filter((i) => Object.values(i.architectures).some((us) => us.some((u) => u.security || !securityOnly))).map((i) => i.image);
}

/** One row per update, the lock architectures it concerns merged (they usually agree). */
function rows(image: ImageUpdates): { update: PendingUpdate; label: string; archs: string[] }[] {
  const byKey = new Map<string, { update: PendingUpdate; label: string; archs: string[] }>();
  for (const [lockArch, updates] of Object.entries(image.architectures)) {
    for (const u of updates) {
      const label = u.architecture === "all" || u.architecture === lockArch ? u.name : `${u.name}:${u.architecture}`;
      const key = [label, u.locked, u.available, u.suite].join(" ");
      const row = byKey.get(key) ?? { update: u, label, archs: [] };
      row.archs.push(lockArch);
      byKey.set(key, row);
    }
  }
  return [...byKey.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

function table(lines: string[][]): string[] {
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  return lines.map((l) => l.map((cell, c) => (c === l.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ").trimEnd());
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The report for a person: one block per image, then the suites it was checked against. */
export function renderOutdated(report: OutdatedReport): string {
  const out: string[] = [];
  for (const image of report.images) {
    const pending = rows(image);
    const locked = Math.max(0, ...Object.values(image.packages));
    const context = `${plural(locked, "package")} locked at ${image.snapshot}${image.onTopOf ? `, on top of ${image.onTopOf}` : ""}`;
    if (!pending.length) {
      out.push(`${image.image}: up to date (${context})`);
      continue;
    }
    const security = pending.filter((r) => r.update.security).length;
    out.push(`${image.image}: ${plural(pending.length, "update")}${security ? `, ${security} security` : ""} (${context})`);
    const lines = pending.map((r) => [r.label, `${r.update.locked} -> ${r.update.available}`, r.update.suite, r.update.security ? "security" : "", r.archs.join(", ")]);
    out.push(...table(lines).map((l) => `  ${l}`));
    out.push(`  refresh: ${image.refresh}`);
  }
  if (!report.images.length) out.push("no locked Debian packages");
  else out.push(`checked against ${report.suites.map((s) => `${s.suite} (${s.date})`).join(", ")}`);
  return out.join("\n") + "\n";
}
