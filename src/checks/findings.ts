/** What lint rules report: a place, a rule id and a message, printed one per line. */
import path from "node:path";

export interface Finding {
  file: string;
  line: number;
  /** Rule id, e.g. `from-source`, `final-stage-user`, `SC2086` (docs/checks.md lists them). */
  rule: string;
  message: string;
}

export function formatFinding(f: Finding, cwd = process.cwd()): string {
  const rel = path.relative(cwd, f.file) || f.file;
  return `${rel.startsWith("..") ? f.file : rel}:${f.line}: ${f.rule}: ${f.message}`;
}

export function sortFindings(list: Finding[]): Finding[] {
  return [...list].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule));
}
