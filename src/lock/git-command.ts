/**
 * Git as kiln runs it: with a neutral configuration, so that the host's or
 * the user's git config (core.autocrlf, filters, url rewrites, a submodule or
 * hooks setting, an attributes file) changes neither what is fetched nor the
 * bytes of an export. The site's `git.insteadOf` is applied by kiln itself
 * (rewriteGitUrl), never through git's config.
 */
import { run } from "../util/run.ts";
import type { CommandResult } from "./command.ts";

/** Settings pinned on every call: line endings as stored, no attributes file, symlinks as symlinks. */
export const NEUTRAL_CONFIG = ["-c", "core.autocrlf=false", "-c", "core.eol=lf", "-c", "core.attributesFile=/dev/null", "-c", "core.symlinks=true", "-c", "core.hooksPath=/dev/null"];

/** The caller's GIT_* variables (GIT_DIR, GIT_INDEX_FILE, GIT_CONFIG_*...) would redirect or reconfigure git: only ssh and tracing ones pass. */
function neutralEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_") || k.startsWith("GIT_SSH") || k.startsWith("GIT_TRACE")) env[k] = v;
  // No credential prompts (a build must fail, not hang); no system or global config.
  return { ...env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "/bin/false", GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", ...extra };
}

/** Runs git with the neutral configuration; never throws for a non-zero exit. */
export async function git(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): Promise<CommandResult> {
  const r = await run("git", [...NEUTRAL_CONFIG, ...args], { what: `git ${args.find((a) => !a.startsWith("-")) ?? ""}`.trim(), cwd: opts.cwd, env: neutralEnv(opts.env ?? {}), input: opts.input, allowFailure: true });
  return { code: r.code, stdout: r.stdout.toString("utf8"), stderr: r.stderr };
}
