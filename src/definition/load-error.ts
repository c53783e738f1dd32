/**
 * Why a definition file could not be imported, as one line. The TypeScript compiler (esbuild, through
 * tsx) puts its findings after a first line that says only "Transform failed with N error(s):"; the
 * finding itself, with its file:line:column, is what the user needs.
 */
import path from "node:path";

const TRANSFORM_FAILED = /^Transform failed with (\d+) errors?:$/;
/** `/abs/file.ts:2:59: ERROR: Expected "}" but found "description"` */
const FINDING = /^(.+?):(\d+):(\d+): (?:ERROR|error): (.*)$/;

export function describeLoadFailure(e: unknown, file: string, cwd = process.cwd()): string {
  const rel = (f: string) => path.relative(cwd, f) || f;
  const lines = (e instanceof Error ? e.message : String(e)).split("\n");
  const failed = TRANSFORM_FAILED.exec(lines[0] ?? "");
  const finding = failed ? lines.slice(1).map((l) => FINDING.exec(l)).find((m) => m) : undefined;
  if (!failed || !finding) return `${rel(file)}: cannot load the definition: ${lines[0]}`;
  const [, where, line, column, text] = finding;
  const more = Number(failed[1]) > 1 ? ` (and ${Number(failed[1]) - 1} more)` : "";
  // esbuild counts columns from 0; editors and tsc from 1.
  return `${rel(where!)}:${line}:${Number(column) + 1}: cannot load the definition: ${text}${more}`;
}
