/** `kiln engine status` as text: the engine report, readable top to bottom. */
import type { EngineReport } from "./detect.ts";

const yes = (b: boolean) => (b ? "yes" : "no");

/** kiln's own buildkitd containers (`kiln engine setup --buildkit`), as `listBuildkitds` finds them. */
type Buildkitds = { name: string; state: string; image: string; ports: string }[];

export function formatEngineReport(r: EngineReport, buildkitds: Buildkitds = []): string {
  const lines: string[] = [];
  lines.push(r.usable ? `engine:     usable (${r.driver})` : `engine:     NOT usable (${r.state}): ${r.problem}${r.hint ? `; ${r.hint}` : ""}`);
  lines.push(`driver:     ${r.driver ?? "none"}: ${r.why}`);
  if (r.engine) {
    lines.push(`buildkit:   ${r.engine.description}${r.engine.buildkitVersion ? `, BuildKit ${r.engine.buildkitVersion}` : ""}`);
    lines.push(`address:    ${r.engine.address}`);
    if (r.engine.platforms.length) lines.push(`platforms:  ${r.engine.platforms.join(", ")}`);
  }
  const clients = Object.entries(r.clients)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`);
  if (clients.length) lines.push(`clients:    ${clients.join(", ")}`);
  lines.push(`oci export: ${yes(r.ociExport)}`);
  lines.push(`multi-arch: ${yes(r.multiPlatform)}`);
  if (r.capabilityNote) lines.push(`            (${r.capabilityNote})`);
  const b = r.binfmt;
  const binfmt = !b.mounted ? "binfmt_misc not mounted" : !b.enabled ? "not enabled" : `enabled, flags ${b.flags}${b.fixBinary ? "" : " (no F: not usable in containers)"}`;
  lines.push(`emulation:  ${b.entry}: ${binfmt}`);
  const reg = r.registry.answers ? "answers" : r.registry.status === undefined ? "does not answer" : `answers HTTP ${r.registry.status}`;
  lines.push(`registry:   ${r.registry.address}: ${reg}`);
  for (const b of buildkitds) lines.push(`buildkitd:  ${b.name} ${b.state}${b.ports ? ` on ${b.ports}` : ""} (image ${b.image})`);
  for (const w of r.warnings) lines.push(`warning:    ${w}`);
  if (r.waitedMs !== undefined) lines.push(`waited:     ${(r.waitedMs / 1000).toFixed(0)} s for a busy engine to answer`);
  lines.push(`(detected in ${r.durationMs} ms)`);
  return lines.join("\n") + "\n";
}
