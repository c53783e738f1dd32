/** Renders a BuildPlan as a `buildctl build` command line (a standalone buildkitd at BUILDKIT_HOST). */
import path from "node:path";
import type { BuildPlan, EngineTarget } from "../plan/types.ts";
import { EXPORT_DIR } from "../plan/types.ts";
import { ociExport } from "./common.ts";
import { buildctlConnectionArgs } from "./detect.ts";

/** Name under which buildctl exposes the local store to the frontend. */
const STORE_LAYOUT = "kiln-store";

export function renderBuildctl(plan: BuildPlan, engine: EngineTarget, exportDest = EXPORT_DIR): string[] {
  const argv = [engine.buildctl ?? "buildctl", ...buildctlConnectionArgs(engine)];
  argv.push("build", "--frontend", "dockerfile.v0");
  argv.push("--local", `context=${plan.contextDir}`);
  argv.push("--local", `dockerfile=${path.dirname(plan.dockerfile)}`);
  argv.push("--opt", `filename=${path.basename(plan.dockerfile)}`);
  if (plan.stage) argv.push("--opt", `target=${plan.stage}`);
  argv.push("--opt", `platform=${plan.platforms.join(",")}`);
  for (const [k, v] of Object.entries(plan.buildArgs)) argv.push("--opt", `build-arg:${k}=${v}`);
  for (const [k, v] of Object.entries(plan.labels)) argv.push("--opt", `label:${k}=${v}`);
  for (const s of plan.secrets) argv.push("--secret", `id=${s.id},src=${s.src}`);
  const layouts = new Set<string>();
  for (const [name, ctx] of Object.entries(plan.namedContexts)) {
    if ("digest" in ctx) {
      // buildctl names each OCI layout; the store is one layout holding every parent.
      if (!layouts.has(ctx.layout)) argv.push("--oci-layout", `${STORE_LAYOUT}=${ctx.layout}`);
      layouts.add(ctx.layout);
      argv.push("--opt", `context:${name}=oci-layout://${STORE_LAYOUT}@${ctx.digest}`);
    } else {
      argv.push("--local", `${name}=${ctx.dir}`, "--opt", `context:${name}=local:${name}`);
    }
  }
  if (plan.addHosts.length) argv.push("--opt", `add-hosts=${plan.addHosts.join(",")}`);
  if (plan.noCache) argv.push("--no-cache");
  for (const c of plan.cacheFrom) argv.push("--import-cache", c);
  for (const c of plan.cacheTo) argv.push("--export-cache", c);
  argv.push("--output", ociExport(exportDest));
  argv.push("--progress", "rawjson");
  return argv;
}
