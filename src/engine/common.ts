/** Pieces both drivers render the same way. */
import type { BuildPlan, EngineTarget } from "../plan/types.ts";
import type { Settings } from "../settings/schema.ts";
import { effectiveBuilder } from "./nodes.ts";

/**
 * The one exporter of every build: an OCI layout folder with timestamps
 * rewritten to SOURCE_DATE_EPOCH (only the oci/tar/local exporters support it,
 * hence export first, publish from the store after).
 */
export function ociExport(dest: string): string {
  return `type=oci,dest=${dest},tar=false,rewrite-timestamp=true`;
}

/** Named contexts as buildx references: parents by digest from an OCI layout, prepared inputs as folders. */
export function namedContextRefs(plan: BuildPlan): [string, string][] {
  return Object.entries(plan.namedContexts).map(([name, ctx]) => [name, "digest" in ctx ? `oci-layout://${ctx.layout}@${ctx.digest}` : ctx.dir]);
}

/** Replaces the plan's placeholders (`<secrets>`, `<export>`, `<work>`) in an argv. */
export function substitute(argv: string[], values: Record<string, string>): string[] {
  return argv.map((a) => Object.entries(values).reduce((s, [k, v]) => s.split(k).join(v), a));
}

/**
 * The engine a plan is rendered for, from the settings alone (no probing, so
 * `kiln plan` is fast and deterministic): buildctl when a BuildKit address is
 * configured, else buildx.
 */
export function engineFromSettings(settings: Pick<Settings, "engine">): EngineTarget {
  const { driver, buildkitHost, buildctl, tls } = settings.engine;
  const chosen = driver === "auto" ? (buildkitHost ? "buildctl" : "buildx") : driver;
  return chosen === "buildctl" ? { driver: "buildctl", buildkitHost, buildctl, tls } : { driver: "buildx", builder: effectiveBuilder(settings.engine), tls: {} };
}
