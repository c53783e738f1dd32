/**
 * A Dockerfile as stages of instructions, parsed with dockerfile-ast (line
 * continuations, comments, heredocs, flags), reduced to what the lint rules
 * read. Lines are 1-based.
 */
import { DockerfileParser } from "dockerfile-ast";

export interface Instruction {
  keyword: string;
  line: number;
  /** Arguments after the flags, continuations joined (heredoc bodies included). */
  args: string;
  flags: { name: string; value: string }[];
}

export interface Stage {
  /** `AS name`, lower-cased as BuildKit matches it. */
  name?: string;
  index: number;
  line: number;
  /** What FROM names, build args already substituted where they have defaults. */
  from: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  stages: Stage[];
  /** `# syntax=` and other parser directives, with their line. */
  directives: { name: string; value: string; line: number }[];
  /** Global ARGs (before the first FROM) and their defaults. */
  globalArgs: Record<string, string | undefined>;
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const df = DockerfileParser.parse(text);
  const directives = df.getDirectives().map((d) => ({ name: d.getName().toLowerCase(), value: d.getValue(), line: d.getRange().start.line + 1 }));
  const stages: Stage[] = [];
  const globalArgs: Record<string, string | undefined> = {};
  for (const ins of df.getInstructions()) {
    const keyword = ins.getKeyword().toUpperCase();
    const flagged = ins as unknown as { getFlags?: () => { getName(): string; getValue(): string | null }[] };
    const flags = (flagged.getFlags?.() ?? []).map((f) => ({ name: f.getName(), value: f.getValue() ?? "" }));
    const instruction: Instruction = { keyword, line: ins.getRange().start.line + 1, args: collapseSpaces(ins.getArgumentsContent() ?? ""), flags };
    if (keyword === "FROM") {
      const [image = "", as, name] = instruction.args.split(/\s+/);
      stages.push({
        ...(as?.toLowerCase() === "as" && name ? { name: name.toLowerCase() } : {}),
        index: stages.length,
        line: instruction.line,
        from: substitute(image, globalArgs),
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (keyword === "ARG") for (const [k, v] of argDefaults(instruction.args)) globalArgs[k] = v;
    } else {
      stages[stages.length - 1]!.instructions.push(instruction);
    }
  }
  return { stages, directives, globalArgs };
}

/** Continuation indents collapse to one space; heredoc line breaks stay. */
function collapseSpaces(args: string): string {
  return args.trim().replace(/\s+/g, (m) => (m.includes("\n") ? "\n" : " "));
}

function argDefaults(args: string): [string, string | undefined][] {
  return args.split(/\s+/).filter(Boolean).map((a) => {
    const eq = a.indexOf("=");
    return eq < 0 ? [a, undefined] : [a.slice(0, eq), a.slice(eq + 1).replace(/^"(.*)"$/, "$1")];
  });
}

/** `${X}` / `$X` replaced by the global ARG default when there is one. */
function substitute(s: string, args: Record<string, string | undefined>): string {
  return s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, k: string) => args[k] ?? m);
}

/** The stage a target builds: the one named like it, else the last one. */
export function targetStage(df: ParsedDockerfile, stageName: string | undefined): Stage | undefined {
  const wanted = stageName?.toLowerCase();
  return (wanted && df.stages.find((s) => s.name === wanted)) || df.stages[df.stages.length - 1];
}

/** The chain of stages a stage is built on (itself first), following FROM <earlier stage>. */
export function stageChain(df: ParsedDockerfile, stage: Stage): Stage[] {
  const chain = [stage];
  let cur = stage;
  for (;;) {
    const from = cur.from.toLowerCase();
    const parent = df.stages.slice(0, cur.index).reverse().find((s) => s.name === from);
    if (!parent) return chain;
    chain.push(parent);
    cur = parent;
  }
}
