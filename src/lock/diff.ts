/**
 * What changed between two locks, pin by pin, and how a person reads it:
 *   ~ git caddy: v2.6.4 1a2b3c4 -> v2.6.4 9f8e7d6
 *   + download tool (linux/arm64): sha256 0123456789ab
 *   - parent base: base:runtime sha256:0f1e2d3c4b5a
 */
import type { InputKind } from "./declared.ts";
import type { DebianSourceLock, DownloadLock, GitLock, Lock, LockedDeb, ParentLock } from "./schema.ts";

export interface Change {
  kind: InputKind;
  /** What the pin is, e.g. `git caddy`, `debian amd64 libc6`. */
  label: string;
  action: "added" | "removed" | "changed";
  from?: string;
  to?: string;
}

const short = (hex: string) => hex.replace(/^sha256:/, "").slice(0, 12);
const gitSummary = (g: GitLock) => `${g.ref} ${g.commit.slice(0, 7)}`;
const parentSummary = (p: ParentLock) => `${p.ref} sha256:${short(p.index)}`;
function downloadSummary(d: DownloadLock): string {
  const hash = d.sha512 ? `sha512 ${short(d.sha512)}` : `sha256 ${short(d.sha256 ?? "")}`;
  return `${d.url} ${hash}${d.signature ? ` signed ${d.signature.fingerprint.slice(-16)}` : ""}`;
}

function diffMaps<T>(kind: InputKind, labelOf: (k: string) => string, a: Record<string, T>, b: Record<string, T>, summary: (v: T) => string, out: Change[]) {
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const from = a[key] === undefined ? undefined : summary(a[key]);
    const to = b[key] === undefined ? undefined : summary(b[key]);
    if (from === to && JSON.stringify(a[key]) === JSON.stringify(b[key])) continue;
    const label = labelOf(key);
    if (from === undefined) out.push({ kind, label, action: "added", to });
    else if (to === undefined) out.push({ kind, label, action: "removed", from });
    else out.push({ kind, label, action: "changed", from, to });
  }
}

export function diffLocks(before: Lock | undefined, after: Lock): Change[] {
  const out: Change[] = [];
  const b = before ?? { lockVersion: 1 as const, image: after.image };
  // Debian: the snapshot, then package by package per architecture.
  if (b.debian?.snapshot !== after.debian?.snapshot || b.debian?.suite !== after.debian?.suite) {
    const fmt = (d?: { suite: string; snapshot: string }) => (d ? `${d.suite} ${d.snapshot}` : undefined);
    const from = fmt(b.debian);
    const to = fmt(after.debian);
    out.push({ kind: "debian", label: "debian snapshot", action: !from ? "added" : !to ? "removed" : "changed", from, to });
  }
  const debMaps = (d?: Lock["debian"]) => d?.packages ?? {};
  const archs = [...new Set([...Object.keys(debMaps(b.debian)), ...Object.keys(debMaps(after.debian))])].sort();
  for (const arch of archs) {
    const byName = (list: LockedDeb[] = []) => Object.fromEntries(list.map((p) => [p.name, p]));
    diffMaps("debian", (n) => `debian ${arch} ${n}`, byName(debMaps(b.debian)[arch]), byName(debMaps(after.debian)[arch]), (p) => p.version, out);
  }
  diffMaps("git", (n) => `git ${n}`, b.git ?? {}, after.git ?? {}, gitSummary, out);
  const flat = (d: Lock["downloads"]) => Object.fromEntries(Object.entries(d ?? {}).flatMap(([name, keys]) => Object.entries(keys).map(([k, v]) => [`${name} (${k})`, v])));
  diffMaps("url", (n) => `download ${n}`, flat(b.downloads), flat(after.downloads), downloadSummary, out);
  diffMaps("image", (n) => `parent ${n}`, b.parents ?? {}, after.parents ?? {}, parentSummary, out);
  const sourceSummary = (s: DebianSourceLock) => `${s.package} ${s.version} ${short(s.files[0]!.sha256)}`;
  diffMaps("source", (n) => `debian source ${n}`, b.debianSource ?? {}, after.debianSource ?? {}, sourceSummary, out);
  for (const [name, s] of Object.entries(after.debianSource ?? {})) {
    for (const [buildArch, perTarget] of Object.entries(s.buildDepends)) {
      for (const [target, debs] of Object.entries(perTarget)) {
        const byName = (list: LockedDeb[] = []) => Object.fromEntries(list.map((p) => [`${p.name}:${p.architecture}`, p]));
        const before = byName(b.debianSource?.[name]?.buildDepends[buildArch]?.[target]);
        diffMaps("source", (n) => `debian source ${name} ${buildArch}->${target} ${n}`, before, byName(debs), (p) => p.version, out);
      }
    }
  }
  const npmFlat = (n: Lock["npm"]) => Object.fromEntries(Object.entries(n ?? {}).flatMap(([name, l]) => l.packages.map((p) => [`${name} ${p.path}`, p])));
  diffMaps("npm", (n) => `npm ${n}`, npmFlat(b.npm), npmFlat(after.npm), (p) => `${p.version} sha512 ${short(p.sha512)}`, out);
  return out;
}

export function renderChanges(changes: Change[]): string {
  return changes
    .map((c) => (c.action === "added" ? `+ ${c.label}: ${c.to}` : c.action === "removed" ? `- ${c.label}: ${c.from}` : `~ ${c.label}: ${c.from} -> ${c.to}`))
    .join("\n");
}
