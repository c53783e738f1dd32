/**
 * Licenses from Debian copyright files. Only machine-readable ones count
 * (DEP-5, `Format: .../copyright-format/1.0/`): the synopsis of each `License:`
 * field becomes an SPDX expression. Debian's short names map onto SPDX
 * identifiers (`GPL-2+` -> `GPL-2.0-or-later`, `Expat` -> `MIT`); a name SPDX
 * does not list becomes `LicenseRef-<name>`. Anything else is no assertion.
 */
import { createRequire } from "node:module";
import { parseDeb822 } from "../debian/deb822.ts";

const spdxIds = createRequire(import.meta.url)("spdx-license-ids") as string[];
const SPDX_BY_LOWER = new Map(spdxIds.map((id) => [id.toLowerCase(), id]));

/** Debian short names whose SPDX identifier is spelled differently; `+` (or later) is handled apart. */
const DEBIAN_NAMES: Record<string, string> = {
  expat: "MIT",
  artistic: "Artistic-1.0-Perl",
  "psf-2": "PSF-2.0",
  "gfdl-niv-1.2": "GFDL-1.2-no-invariants",
  "gfdl-niv-1.3": "GFDL-1.3-no-invariants",
  "mpl-1.1": "MPL-1.1",
  "zope-2.1": "ZPL-2.1",
  "bsd-2-clause": "BSD-2-Clause",
  "bsd-3-clause": "BSD-3-Clause",
  "bsd-4-clause": "BSD-4-Clause",
};

/** GNU licenses: versioned names take `-only` or `-or-later`. */
const GNU = /^(a?gpl|lgpl|gfdl(?:-niv)?)-(\d(?:\.\d)?)(\+?)$/i;

/** Exceptions Debian names in `with NAME exception`, by their SPDX identifier. */
const EXCEPTIONS: Record<string, string> = {
  autoconf: "Autoconf-exception-2.0",
  "autoconf-2.0": "Autoconf-exception-2.0",
  "autoconf-3.0": "Autoconf-exception-3.0",
  bison: "Bison-exception-2.2",
  "bison-2.2": "Bison-exception-2.2",
  classpath: "Classpath-exception-2.0",
  "gcc-3.1": "GCC-exception-3.1",
  "gcc-runtime-3.1": "GCC-exception-3.1",
  font: "Font-exception-2.0",
  libtool: "Libtool-exception",
};

/** The parts of a LicenseRef id: letters, digits, `.` and `-`. */
export function licenseRef(name: string): string {
  return `LicenseRef-${name.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/-{2,}/g, "-").replace(/^-+|-+$/g, "") || "unnamed"}`;
}

/** One Debian short name (`GPL-2+`, `Expat`, `BSD-3-clause`) as an SPDX identifier or LicenseRef. */
export function spdxLicenseId(debianName: string): string {
  const name = debianName.trim();
  const lower = name.toLowerCase();
  const gnu = GNU.exec(name);
  if (gnu) {
    const family = gnu[1]!.toUpperCase().replace("GFDL-NIV", "GFDL");
    const version = gnu[2]!.includes(".") ? gnu[2]! : `${gnu[2]}.0`;
    const niv = gnu[1]!.toLowerCase() === "gfdl-niv" ? "-no-invariants" : "";
    const id = `${family}-${version}${niv}-${gnu[3] ? "or-later" : "only"}`;
    if (SPDX_BY_LOWER.has(id.toLowerCase())) return SPDX_BY_LOWER.get(id.toLowerCase())!;
  }
  const mapped = DEBIAN_NAMES[lower];
  if (mapped && SPDX_BY_LOWER.has(mapped.toLowerCase())) return mapped;
  return SPDX_BY_LOWER.get(lower) ?? licenseRef(name);
}

/** `X with Y exception` -> `ID WITH EXCEPTION`, or one LicenseRef when SPDX has no such exception. */
function term(text: string): string {
  const m = /^(.+?)\s+with\s+(.+?)\s+exception$/i.exec(text.trim());
  if (!m) return spdxLicenseId(text);
  const license = spdxLicenseId(m[1]!);
  const exception = EXCEPTIONS[m[2]!.toLowerCase()];
  return exception && !license.startsWith("LicenseRef-") ? `${license} WITH ${exception}` : licenseRef(`${m[1]}-with-${m[2]}-exception`);
}

/**
 * A DEP-5 license synopsis as an SPDX expression: `and`/`or` keep their
 * meaning (and binds tighter, as in SPDX); a comma before `and`/`or` groups
 * what precedes it, which parentheses say in SPDX.
 */
export function synopsisToSpdx(synopsis: string): string {
  const groups = synopsis.split(/,\s*(?=(?:and|or)\s)/i);
  const parts = groups.map((group, i) => {
    const op = i === 0 ? undefined : (/^(and|or)\s/i.exec(group)![1]!.toUpperCase() as "AND" | "OR");
    const body = i === 0 ? group : group.replace(/^(and|or)\s+/i, "");
    const tokens = body.split(/\s+(and|or)\s+/i);
    const expr = tokens.map((t, j) => (j % 2 === 1 ? t.toUpperCase() : term(t))).join(" ");
    return { op, expr };
  });
  if (parts.length === 1) return parts[0]!.expr;
  const wrap = (e: string) => (/ (AND|OR) /.test(e) ? `(${e})` : e);
  return parts.map((p, i) => (i === 0 ? wrap(p.expr) : `${p.op} ${wrap(p.expr)}`)).join(" ");
}

/** Splits `A AND (B OR C) AND D` into its AND-ed parts; an expression whose top level is OR is one part. */
export function topLevelConjuncts(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (depth === 0 && expression.startsWith(" OR ", i)) return [expression];
    else if (depth === 0 && expression.startsWith(" AND ", i)) {
      parts.push(expression.slice(start, i));
      start = i + 5;
    }
  }
  parts.push(expression.slice(start));
  return parts;
}

/** Whether the whole expression is one parenthesised group. */
function isWrapped(e: string): boolean {
  if (!e.startsWith("(") || !e.endsWith(")")) return false;
  let depth = 0;
  for (let i = 0; i < e.length - 1; i++) {
    if (e[i] === "(") depth++;
    else if (e[i] === ")") depth--;
    if (depth === 0) return false;
  }
  return true;
}

export interface CopyrightLicenses {
  /** The SPDX expression of everything the file licenses: every distinct AND-ed part once, in the order of the file. */
  expression: string;
  /** Debian's name of every LicenseRef the expression uses. */
  refs: Map<string, string>;
}

/** The licenses a machine-readable copyright file declares, or undefined when it is not machine-readable. */
export function copyrightLicenses(text: string): CopyrightLicenses | undefined {
  let paragraphs;
  try {
    paragraphs = parseDeb822(text.replace(/\r\n/g, "\n"));
  } catch {
    return undefined;
  }
  const field = (p: Record<string, string>, name: string) => Object.entries(p).find(([k]) => k.toLowerCase() === name)?.[1];
  const header = paragraphs[0];
  const format = header && (field(header, "format") ?? field(header, "format-specification"));
  if (!format || !/copyright-format|dep-?5/i.test(format)) return undefined;
  const synopses: string[] = [];
  for (const p of paragraphs) {
    const license = field(p, "license");
    if (field(p, "files") === undefined || license === undefined) continue;
    const synopsis = license.split("\n")[0]!.trim();
    if (synopsis && !synopses.includes(synopsis)) synopses.push(synopsis);
  }
  if (!synopses.length) return undefined;
  const conjuncts = [...new Set(synopses.flatMap((s) => topLevelConjuncts(synopsisToSpdx(s))))];
  const expression = conjuncts.length === 1 ? conjuncts[0]! : conjuncts.map((e) => (/ OR /.test(e) && !isWrapped(e) ? `(${e})` : e)).join(" AND ");
  const refs = new Map<string, string>();
  for (const s of synopses) {
    for (const piece of s.split(/,?\s+(?:and|or)\s+/i)) {
      const id = term(piece);
      if (id.startsWith("LicenseRef-")) refs.set(id, piece.trim());
    }
  }
  return { expression, refs };
}
