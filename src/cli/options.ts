/** Options shared by `kiln build` and `kiln plan`, and their translation into a request and settings. */
import { Command, Option } from "commander";
import { parseOutput } from "../build/outputs.ts";
import type { BuildOptions } from "../build/build.ts";
import { KilnError } from "../errors.ts";
import type { ProgressMode } from "../engine/progress.ts";
import { loadSettings } from "../settings/load.ts";
import type { Settings } from "../settings/schema.ts";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `--config` and `--set`: every command that reads settings takes them. */
export function addSettingsOptions(cmd: Command): Command {
  return cmd
    .option("--config <file>", "site config file (default: $KILN_CONFIG, else ~/.config/kiln/config.{json,yaml})")
    .option("--set <key=value>", "override any settings key, e.g. --set apt.proxy=http://proxy:3142 (repeatable)", collect, [])
    .option("--offline", "use only the local cache: no network fetches");
}

/** What shapes a plan: `kiln plan` takes these, and `kiln build` too. */
export function addPlanOptions(cmd: Command): Command {
  return addSettingsOptions(
    cmd
      .option("--platform <platforms>", "platform(s) to build, repeatable or comma-separated (linux/amd64, linux/arm64)", collect)
      .option("--target <target>", "named target of the image (default: the definition's default)")
      .option("--tag <tag>", "tag(s) instead of the definition's, repeatable", collect)
      .option("--image <name>", "repository name(s) instead of the definition's, e.g. me/debian (repeatable)", collect)
      .option("--output <type:path>", "also write the image as oci:PATH, oci-dir:PATH, local:PATH or tar:PATH (repeatable)", collect)
      .option("--no-cache", "do not use the engine's build cache")
      .option("--cache-from <ref>", "import build cache, e.g. type=registry,ref=... (repeatable)", collect)
      .option("--cache-to <ref>", "export build cache (repeatable)", collect)
      .option("--build-arg <K=V>", "build argument (repeatable)", collect)
      .option("--json", "print the result as JSON"),
  );
}

/** `kiln build` only: what happens after the build (push, load), how it shows, and a dry run. */
export function addBuildOptions(cmd: Command): Command {
  return addPlanOptions(cmd)
    .option("--registry <registry>", "registry[/namespace] to push to, repeatable (default: settings `registries`)", collect)
    .option("--push", "push to the registries after the build (exact digests)")
    .option("--load", "load into the local Docker engine after the build")
    .addOption(new Option("--progress <mode>", "progress display").choices(["auto", "plain", "tty", "json", "quiet"]).default("auto"))
    .option("--dry-run", "resolve and print the plan; run nothing");
}

export interface SettingsFlags {
  config?: string;
  set?: string[];
  offline?: boolean;
}

export async function settingsFrom(flags: SettingsFlags): Promise<Settings> {
  const sets = [...(flags.set ?? []), ...(flags.offline ? ["offline=true"] : [])];
  return loadSettings({ configPath: flags.config, sets });
}

export interface BuildFlags extends SettingsFlags {
  platform?: string[];
  target?: string;
  tag?: string[];
  image?: string[];
  registry?: string[];
  push?: boolean;
  load?: boolean;
  output?: string[];
  cache?: boolean;
  cacheFrom?: string[];
  cacheTo?: string[];
  buildArg?: string[];
  progress?: ProgressMode;
  dryRun?: boolean;
  json?: boolean;
}

export function buildRequestFrom(ref: string, flags: BuildFlags): BuildOptions {
  if (flags.target && ref.includes(":")) throw new KilnError(`both ${ref} and --target ${flags.target} name a target`, "use one of them");
  return {
    ref: flags.target ? `${ref}:${flags.target}` : ref,
    platforms: flags.platform,
    tags: flags.tag,
    imageNames: flags.image,
    registries: flags.registry,
    push: flags.push,
    load: flags.load,
    outputs: flags.output?.map(parseOutput),
    noCache: flags.cache === false,
    cacheFrom: flags.cacheFrom,
    cacheTo: flags.cacheTo,
    buildArgs: parseBuildArgs(flags.buildArg ?? []),
    progress: flags.progress,
    dryRun: flags.dryRun,
  };
}

function parseBuildArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const i = a.indexOf("=");
    if (i < 1) throw new KilnError(`invalid --build-arg "${a}"`, "use --build-arg NAME=VALUE");
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}
