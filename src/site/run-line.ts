/**
 * How to run an image: the `docker run` line with the hardened profile kiln
 * tests it under (read-only root, no capabilities, no privilege gain, its
 * user, tmpfs /tmp), its ports, its volumes and its environment, and the
 * environment variables its README documents (the table whose first column
 * is "variable").
 */
import type { ImageDefinition, RuntimeExpectations } from "../definition/schema.ts";

export interface EnvVar {
  name: string;
  /** From the README table ("" when it gives none). */
  default?: string;
  /** Markdown text from the README. */
  meaning?: string;
  /** The value kiln test runs the image with (the definition's runtime.env). */
  testValue?: string;
  required: boolean;
}

/** Rows of every README table headed `| variable | ...`: name, default, meaning. */
export function readmeEnv(readme: string): { name: string; default: string; meaning: string }[] {
  const out: { name: string; default: string; meaning: string }[] = [];
  const lines = readme.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const head = cells(lines[i]!);
    if (head?.[0]?.toLowerCase() !== "variable" || !/^\s*\|[\s|:-]+\|\s*$/.test(lines[i + 1] ?? "")) continue;
    for (i += 2; i < lines.length; i++) {
      const row = cells(lines[i]!);
      if (!row) break;
      const name = row[0]!.replace(/`/g, "").trim();
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) out.push({ name, default: row[1] ?? "", meaning: row.slice(2).join(" | ") });
    }
  }
  return out;
}

/** `| a | b \| c |` -> ["a", "b \| c"]; undefined for a line that is no table row. */
function cells(line: string): string[] | undefined {
  const t = line.trim();
  if (!t.startsWith("|") || !t.endsWith("|") || t.length < 2) return undefined;
  return t
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** README variables and the definition's runtime.env, by name (README order first). */
export function envVars(readme: string | undefined, runtime: RuntimeExpectations): EnvVar[] {
  const out = new Map<string, EnvVar>();
  for (const v of readme ? readmeEnv(readme) : []) {
    if (!out.has(v.name)) out.set(v.name, { name: v.name, default: v.default, meaning: v.meaning, required: /\(required\)/i.test(v.default) });
  }
  for (const [name, value] of Object.entries(runtime.env).sort(([a], [b]) => (a < b ? -1 : 1))) {
    out.set(name, { ...(out.get(name) ?? { name, required: false }), testValue: value });
  }
  return [...out.values()];
}

/** A word the shell keeps as it is, quoted only when it must be. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `kiln/router:latest`: the first output name and the first tag whose placeholders are known. */
export function imageTag(def: ImageDefinition, target: string, isDefault: boolean, values: Record<string, string | undefined>): string {
  const t = def.targets[target];
  const name = t?.outputs?.names?.[0] ?? def.outputs.names?.[0] ?? (isDefault ? `kiln/${def.name}` : `kiln/${def.name}-${target}`);
  const tags = t?.outputs?.tags ?? def.outputs.tags ?? ["latest"];
  for (const tag of tags) {
    const filled = tag.replace(/\{(\w+)\}/g, (_, k: string) => values[k]?.replace(/[^A-Za-z0-9_.-]/g, "-") ?? "\0");
    if (!filled.includes("\0")) return `${name}:${filled}`;
  }
  return `${name}:latest`;
}

/** The `docker run` line, as one line to copy. Required variables with no known value get CHANGE-ME. */
export function dockerRunLine(name: string, runtime: RuntimeExpectations, env: EnvVar[], tag: string): string {
  const args = ["docker", "run", "--rm", "--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges", "--user", runtime.user, "--tmpfs", "/tmp"];
  // Namespaced sysctls the image is tested with (runtime.privileges.sysctls), e.g. a low port without a capability.
  for (const [k, v] of Object.entries(runtime.privileges?.sysctls ?? {})) args.push(`--sysctl=${k}=${v}`);
  for (const p of [...runtime.ports].sort((a, b) => a - b)) args.push("-p", `${p}:${p}`);
  for (const v of runtime.volumes) args.push("-v", `${name}${v.replace(/[^A-Za-z0-9]+/g, "-").replace(/-$/, "")}:${v}`);
  for (const e of env) {
    if (e.testValue !== undefined) args.push("-e", `${e.name}=${e.testValue}`);
    else if (e.required) args.push("-e", `${e.name}=CHANGE-ME`);
  }
  args.push(tag);
  return args.map(shellQuote).join(" ");
}
