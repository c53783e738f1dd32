/**
 * Dockerfile rules for catalog images: parents come only from the catalog by
 * digest, packages only from the locked repository, runtime stages run
 * nothing and never as root, and every service declares a health check.
 */
import type { ImageDefinition, RuntimeExpectations } from "../definition/schema.ts";
import type { Finding } from "./findings.ts";
import { isRootUser } from "./policy.ts";
import { stageChain, targetStage, type ParsedDockerfile, type Stage } from "./dockerfile.ts";

/**
 * Instructions whose history line Dockerfile frontends of different BuildKit versions write
 * differently (`ARG TARGETARCH` / `ARG TARGETARCH=amd64`, `EXPOSE map[80/tcp:{}]` / `EXPOSE [80/tcp]`):
 * in an image's own stages they make its digest depend on the engine that built it.
 */
const ENGINE_DEPENDENT_HISTORY: Record<string, string> = {
  ARG: "use the global platform ARGs in FROM (a stage per architecture) or `dpkg --print-architecture` in RUN",
  EXPOSE: "list the ports in the image's README and runtime.ports instead",
};

/** The named context kiln fills with the locked .debs (see src/lock/prepare.ts). */
export const LOCKED_DEBS_CONTEXT = "debs";

export interface DockerfileTarget {
  name: string;
  /** Dockerfile stage the target builds (default: its name, else the last stage). */
  stage?: string;
  runtime: RuntimeExpectations;
}

const APT_INSTALL = /\b(apt-get|apt|aptitude)\s+(?:-\S+\s+|\S+=\S+\s+)*(install|build-dep|upgrade|dist-upgrade)\b/;

/** USER and HEALTHCHECK a parent image's final stage ends with, per named context (lower-case). */
export type InheritedSettings = Record<string, { USER?: string; HEALTHCHECK?: string }>;

export function lintDockerfile(file: string, df: ParsedDockerfile, def: ImageDefinition, targets: DockerfileTarget[], inherited: InheritedSettings = {}): Finding[] {
  const out: Finding[] = [];
  const at = (line: number, rule: string, message: string) => out.push({ file, line, rule, message });

  for (const d of df.directives) {
    if (d.name === "syntax") at(d.line, "no-syntax-directive", `"# syntax=${d.value}" needs a frontend image, which is never pulled; remove it (the built-in frontend is used)`);
  }
  if (df.stages.length === 0) at(1, "from-source", "no FROM instruction");

  const parents = new Set(Object.keys(def.parents).map((p) => p.toLowerCase()));
  for (const stage of df.stages) {
    checkFrom(stage, df, parents, def.platforms, at);
    for (const ins of stage.instructions) {
      if (ins.keyword !== "RUN" || !APT_INSTALL.test(ins.args)) continue;
      const mountsDebs = ins.flags.some((f) => f.name === "mount" && f.value.split(",").some((kv) => kv === `from=${LOCKED_DEBS_CONTEXT}`));
      if (!mountsDebs) {
        at(ins.line, "apt-unlocked", `apt installs packages without the locked repository: mount it (RUN --mount=type=bind,from=${LOCKED_DEBS_CONTEXT},...) and declare the packages in inputs.debian`);
      }
    }
  }

  for (const t of targets) {
    const stage = targetStage(df, t.stage ?? t.name);
    if (!stage) continue;
    const label = `target ${t.name} (stage ${stage.name ?? `#${stage.index}`})`;
    if (!t.runtime.tooling && !t.runtime.allowRunInFinalStage) {
      for (const ins of stage.instructions.filter((i) => i.keyword === "RUN")) {
        at(ins.line, "final-stage-run", `${label} runs a command; runtime stages copy results from build stages (or set runtime.allowRunInFinalStage)`);
      }
    }
    for (const ins of stageChain(df, stage).flatMap((s) => s.instructions)) {
      const fix = ENGINE_DEPENDENT_HISTORY[ins.keyword];
      if (fix) at(ins.line, "engine-neutral-history", `${label}: ${ins.keyword} writes a history line that differs between BuildKit versions, so the digest would depend on the engine; ${fix}`);
    }
    const user = finalSetting(df, stage, "USER", inherited);
    // Tool images used as build stages may be declared to run as root (their children's RUN steps install things).
    const rootDeclared = t.runtime.tooling && isRootUser(t.runtime.user);
    if (!rootDeclared && !user) at(stage.line, "final-stage-user", `${label} sets no USER: it would run as root`);
    else if (!rootDeclared && user && isRootUser(user.args)) at(user.line, "final-stage-user", `${label} runs as root (USER ${user.args.trim()}${user.parent ? ` from parent ${user.parent}` : ""})`);
    if (!t.runtime.tooling && t.runtime.healthcheck) {
      const hc = finalSetting(df, stage, "HEALTHCHECK", inherited);
      if (!hc) at(stage.line, "healthcheck", `${label} declares no HEALTHCHECK (or set runtime.healthcheck: false)`);
      else if (/^none\b/i.test(hc.args.trim())) at(hc.line, "healthcheck", `${label} disables its HEALTHCHECK${hc.parent ? ` (from parent ${hc.parent})` : ""}`);
    }
  }
  return out;
}

/**
 * `FROM name-${TARGETARCH}` picks one of the Dockerfile's own stages per platform; the name
 * each of the image's platforms gives must be an earlier stage.
 */
function isStagePerArchitecture(stage: Stage, df: ParsedDockerfile, platforms: readonly string[]): boolean {
  const earlier = new Set(df.stages.slice(0, stage.index).map((s) => s.name));
  return platforms.every((p) => {
    const name = stage.from.replace(/\$\{TARGETARCH\}|\$TARGETARCH\b/g, p.split("/")[1] ?? "").toLowerCase();
    return !name.includes("$") && earlier.has(name);
  });
}

function checkFrom(stage: Stage, df: ParsedDockerfile, parents: Set<string>, platforms: readonly string[], at: (line: number, rule: string, message: string) => void): void {
  const from = stage.from;
  if (from.toLowerCase() === "scratch") return;
  if (from.includes("$") && isStagePerArchitecture(stage, df, platforms)) return;
  if (from.includes("$")) {
    at(stage.line, "from-source", `FROM ${from} depends on a build argument: name a catalog parent, an earlier stage or scratch`);
    return;
  }
  const earlier = df.stages.slice(0, stage.index).some((s) => s.name === from.toLowerCase());
  if (earlier) return;
  const ref = /^(?<name>[^@]+?)(?::(?<tag>[^:/@]+))?(?:@(?<digest>.+))?$/.exec(from)?.groups ?? {};
  if (ref.tag || ref.digest) {
    const what = ref.tag === "latest" ? "the floating tag latest" : ref.tag ? `tag ${ref.tag}` : "a digest";
    at(stage.line, "from-tag", `FROM ${from} pins ${what}; name the parent alone (FROM ${ref.name}): kiln passes it by digest from the store`);
  }
  if (!parents.has((ref.name ?? from).toLowerCase())) {
    at(stage.line, "from-source", `FROM ${from} is not scratch, an earlier stage or a parent named in the definition (parents: ${[...parents].join(", ") || "none"})`);
  }
}

/**
 * The last USER or HEALTHCHECK a stage ends with: from its own chain of
 * stages, else from the catalog parent that chain starts from.
 */
export function finalSetting(
  df: ParsedDockerfile,
  stage: Stage,
  keyword: "USER" | "HEALTHCHECK",
  inherited: InheritedSettings,
): { args: string; line: number; parent?: string } | undefined {
  const chain = stageChain(df, stage);
  for (const s of chain) {
    const found = s.instructions.filter((i) => i.keyword === keyword).pop();
    if (found) return { args: found.args, line: found.line };
  }
  const root = chain[chain.length - 1]!;
  const fromParent = inherited[root.from.toLowerCase()]?.[keyword];
  return fromParent === undefined ? undefined : { args: fromParent, line: root.line, parent: root.from };
}
