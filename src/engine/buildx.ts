/** Renders a BuildPlan as a `docker buildx build` command line (any buildx builder). */
import type { BuildPlan, EngineTarget } from "../plan/types.ts";
import { EXPORT_DIR } from "../plan/types.ts";
import { namedContextRefs, ociExport } from "./common.ts";

export function renderBuildx(plan: BuildPlan, engine: EngineTarget, exportDest = EXPORT_DIR): string[] {
  const argv = ["docker", "buildx", "build"];
  if (engine.builder) argv.push("--builder", engine.builder);
  argv.push("--file", plan.dockerfile);
  if (plan.stage) argv.push("--target", plan.stage);
  argv.push("--platform", plan.platforms.join(","));
  // Provenance and SBOM attestations carry build times and ids: they would break bit-for-bit digests.
  argv.push("--provenance=false", "--sbom=false");
  for (const [k, v] of Object.entries(plan.buildArgs)) argv.push("--build-arg", `${k}=${v}`);
  for (const [k, v] of Object.entries(plan.labels)) argv.push("--label", `${k}=${v}`);
  for (const s of plan.secrets) argv.push("--secret", `id=${s.id},src=${s.src}`);
  for (const [name, ref] of namedContextRefs(plan)) argv.push("--build-context", `${name}=${ref}`);
  for (const h of plan.addHosts) argv.push("--add-host", h.replace("=", ":"));
  if (plan.noCache) argv.push("--no-cache");
  for (const c of plan.cacheFrom) argv.push("--cache-from", c);
  for (const c of plan.cacheTo) argv.push("--cache-to", c);
  argv.push("--output", ociExport(exportDest));
  argv.push("--progress", "rawjson");
  argv.push(plan.contextDir);
  return argv;
}
