/** `kiln build IMAGE[:TARGET]`: one image, reproducibly, into the store; then load/push/outputs. */
import type { Command } from "commander";
import { buildImage, type BuildResult } from "../../build/build.ts";
import { KilnError } from "../../errors.ts";
import { addBuildOptions, buildRequestFrom, settingsFrom, type BuildFlags } from "../options.ts";
import { formatArgv } from "../format.ts";

export function register(program: Command): void {
  addBuildOptions(program.command("build").argument("[image]", "catalog image, `name` or `name:target`").description("build an image into the local store, reproducibly"))
    .action(async (image: string | undefined, flags: BuildFlags) => {
      if (!image) throw new KilnError("no image named", "kiln build IMAGE (see `kiln ls`)");
      const settings = await settingsFrom(flags);
      const result = await buildImage(buildRequestFrom(image, flags), { settings });
      process.stdout.write(flags.json ? JSON.stringify(resultData(result), null, 2) + "\n" : describeResult(result, flags.dryRun));
    });
}

export function resultData(r: BuildResult): object {
  return { ref: r.ref, digest: r.digest, manifests: r.manifests, durationMs: r.durationMs, loaded: r.loaded, pushed: r.pushed, steps: r.steps };
}

function describeResult(r: BuildResult, dryRun?: boolean): string {
  if (dryRun) return `${r.ref}: dry run, nothing built\n${formatArgv(r.argv)}\n`;
  const lines = [`${r.ref} ${r.digest}`];
  for (const [platform, digest] of Object.entries(r.manifests)) lines.push(`  ${platform.padEnd(12)} ${digest}`);
  for (const l of r.loaded) lines.push(`  loaded ${l}`);
  for (const p of r.pushed) lines.push(`  pushed ${p.ref}@${p.digest}`);
  const cached = r.steps ? `, ${r.steps.cached}/${r.steps.total} steps cached` : "";
  lines.push(`  built in ${(r.durationMs / 1000).toFixed(1)}s${cached}`);
  return lines.join("\n") + "\n";
}
