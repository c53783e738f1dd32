/**
 * The engine as a build input: driver, engine and BuildKit versions in one
 * string. A different engine may build different bytes, so images built by
 * another version count as stale.
 */
import { detectEngine, type EngineReport } from "../engine/detect.ts";
import type { Settings } from "../settings/schema.ts";

/** Undefined when no engine answers: staleness then leaves the engine out of the comparison. */
export async function engineFingerprint(settings: Pick<Settings, "engine">): Promise<string | undefined> {
  return fingerprintOf(await detectEngine(settings));
}

export function fingerprintOf(report: Pick<EngineReport, "usable" | "driver" | "engine" | "clients">): string | undefined {
  if (!report.usable || !report.driver) return undefined;
  const parts = [report.driver === "buildx" ? `buildx ${report.clients.buildx ?? "?"}` : `buildctl ${report.clients.buildctl ?? "?"}`];
  if (report.engine?.version) parts.push(`engine ${report.engine.version}`);
  if (report.engine?.buildkitVersion) parts.push(`buildkit ${report.engine.buildkitVersion}`);
  return parts.join(", ");
}
