/**
 * Results of `kiln test`: one line per check (✓/✗), a JUnit XML report for
 * CI, and a summary naming every failed rule.
 */
export interface CheckResult {
  /** Rule id (docs/checks.md), e.g. `no-setuid`, `probe-http`. */
  rule: string;
  /** What was checked, e.g. a test or probe name; the rule id when there is one check per rule. */
  name: string;
  /** `image:target linux/amd64` */
  subject: string;
  ok: boolean;
  /** One line: what was found. */
  message: string;
  /** More lines shown under a failure (health log, output excerpt, file list). */
  details?: string[];
  durationMs?: number;
  /** What the check's command printed, for the JUnit report (`<system-out>`). */
  output?: string;
}

export function formatResults(results: CheckResult[]): string {
  const out: string[] = [];
  let subject = "";
  for (const r of results) {
    if (r.subject !== subject) {
      subject = r.subject;
      out.push(subject);
    }
    const label = r.name === r.rule ? r.rule : `${r.rule} ${r.name}`;
    out.push(`  ${r.ok ? "✓" : "✗"} ${label}: ${r.message}`);
    if (!r.ok) for (const d of r.details ?? []) out.push(`      ${d}`);
  }
  const failed = results.filter((r) => !r.ok);
  out.push(
    failed.length
      ? `FAILED ${failed.length} of ${results.length} checks: ${failed.map((r) => `${r.subject} ${r.rule}${r.name === r.rule ? "" : ` (${r.name})`}`).join(", ")}`
      : `passed ${results.length} checks`,
  );
  return out.join("\n") + "\n";
}

const xml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");

/** JUnit XML: one testsuite per subject (image and platform), one testcase per check. */
export function junitXml(results: CheckResult[]): string {
  const subjects = [...new Set(results.map((r) => r.subject))];
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const failures = results.filter((r) => !r.ok).length;
  lines.push(`<testsuites name="kiln test" tests="${results.length}" failures="${failures}">`);
  for (const s of subjects) {
    const rs = results.filter((r) => r.subject === s);
    const time = rs.reduce((t, r) => t + (r.durationMs ?? 0), 0) / 1000;
    lines.push(`  <testsuite name="${xml(s)}" tests="${rs.length}" failures="${rs.filter((r) => !r.ok).length}" errors="0" time="${time.toFixed(3)}">`);
    for (const r of rs) {
      const name = r.name === r.rule ? r.rule : `${r.rule}: ${r.name}`;
      const open = `    <testcase classname="${xml(s)}" name="${xml(name)}" time="${((r.durationMs ?? 0) / 1000).toFixed(3)}"`;
      if (r.ok && r.output === undefined) lines.push(`${open}/>`);
      else {
        lines.push(`${open}>`);
        if (!r.ok) lines.push(`      <failure message="${xml(r.message)}" type="${xml(r.rule)}">${xml([r.message, ...(r.details ?? [])].join("\n"))}</failure>`);
        if (r.output !== undefined) lines.push(`      <system-out>${xml(r.output)}</system-out>`);
        lines.push("    </testcase>");
      }
    }
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>");
  return lines.join("\n") + "\n";
}
