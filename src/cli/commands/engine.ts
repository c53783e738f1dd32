/** `kiln engine status` and `kiln engine setup`. */
import type { Command } from "commander";
import { KilnError } from "../../errors.ts";
import { detectEngine } from "../../engine/detect.ts";
import { setupEngine } from "../../engine/setup.ts";
import { formatEngineReport } from "../../engine/status.ts";
import { listBuildkitds } from "../../engine/buildkitd.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";
import { setupBuildkitdCommand, setupNodesCommand, type BuildkitdFlags } from "./engine-buildkit.ts";

const EXISTING_BUILDKIT = [
  "to use an existing BuildKit instead of setting one up here:",
  "  - a buildkitd: export BUILDKIT_HOST=tcp://HOST:PORT and put buildctl on PATH (TLS: engine.tls.{ca,cert,key} in the site config)",
  "  - a docker buildx builder: set engine.builder in the site config (or KILN_BUILDER=NAME); see `docker buildx ls`",
];

export function register(program: Command): void {
  const engine = program.command("engine").description("the BuildKit engine kiln drives: status and setup");

  addSettingsOptions(
    engine
      .command("status")
      .description("which driver and engine kiln will use, and why; exit 0 when builds can run")
      .option("--json", "print the report as JSON"),
  ).action(async (flags: SettingsFlags & { json?: boolean }) => {
    const [report, buildkitds] = await Promise.all([detectEngine(await settingsFrom(flags)), listBuildkitds()]);
    if (flags.json) process.stdout.write(JSON.stringify({ ...report, buildkitds }, null, 2) + "\n");
    else if (report.usable) process.stdout.write(formatEngineReport(report, buildkitds));
    // Not usable: one line saying what is wrong (the full report stays available with --json).
    if (!report.usable) throw new KilnError(report.problem ?? "no usable BuildKit engine", report.hint);
  });

  addSettingsOptions(
    engine
      .command("setup")
      .description("install and start the engine on a Debian/Ubuntu host (root): pinned packages, binfmt, dockerd, local registry; idempotent")
      .option("--buildkit", "also run the catalog's buildkit image (from the store) as a standalone buildkitd with mutual TLS, and print how to use it")
      .option("--name <name>", "with --buildkit: the container's name", "kiln-buildkitd")
      .option("--port <port>", "with --buildkit: the host port it is published on", "1234")
      .option("--listen <address>", "with --buildkit: the host address it is published on (0.0.0.0: every interface)", "127.0.0.1")
      .option("--host-network", "with --buildkit: run it on the host's network (it then reaches the host's loopback services, e.g. a local registry cache); buildkitd binds --listen itself")
      .option("--host <name>", "with --buildkit: another name or IP clients dial, put in the server certificate (repeatable)", (v: string, p: string[] = []) => [...p, v])
      .option("--nodes", "also join the buildkitd nodes listed in engine.nodes into one buildx builder (remote driver)"),
  ).action(async (flags: BuildkitdFlags & { nodes?: boolean }) => {
    const settings = await settingsFrom(flags);
    const say = (line: string) => process.stderr.write(`kiln engine setup: ${line}\n`);
    const result = await setupEngine(say, { busyTimeoutMs: settings.engine.busyTimeout * 1000 });
    if (result.refusal) {
      say(`${result.refusal}; nothing was changed. Missing here:`);
      for (const m of result.missing) process.stderr.write(`  - ${m}\n`);
      const report = await detectEngine(settings);
      if (report.usable) {
        process.stdout.write(`engine ready: ${report.driver} is usable (${report.why}); the local engine is not set up\n`);
        return;
      }
      for (const l of EXISTING_BUILDKIT) process.stderr.write(`${l}\n`);
      throw new KilnError(`cannot set up the engine: ${result.refusal}`, "run it as root on Debian/Ubuntu, or point kiln at an existing BuildKit (see above)");
    }
    const what = result.done.length ? `${result.done.length} step(s) done` : "everything was already up";
    process.stdout.write(`engine ready: ${what} (${(result.ms / 1000).toFixed(1)} s)\n`);
    if (flags.buildkit) await setupBuildkitdCommand(settings, flags, say);
    if (flags.nodes) await setupNodesCommand(settings, say);
  });
}
