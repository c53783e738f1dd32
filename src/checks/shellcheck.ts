/**
 * shellcheck (the Debian package) over every shell script of a folder:
 * `*.sh`/`*.bash` files and extension-less files whose shebang names a shell.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import { run } from "../util/run.ts";
import type { Finding } from "./findings.ts";

const SHEBANG = /^#!\s*(?:\/usr)?\/bin\/(?:env\s+(?:-S\s+)?)?(sh|bash|dash|ksh|busybox\s+sh)\b/;
const SKIP_DIRS = new Set(["node_modules", ".git"]);

async function isShellScript(file: string): Promise<boolean> {
  if (/\.(sh|bash)$/.test(file)) return true;
  if (path.basename(file).includes(".")) return false;
  const fh = await fs.open(file, "r");
  try {
    const buf = Buffer.alloc(128);
    const { bytesRead } = await fh.read(buf, 0, 128, 0);
    return SHEBANG.test(buf.subarray(0, bytesRead).toString("latin1"));
  } finally {
    await fh.close();
  }
}

/** Every shell script below `dir` (regular files only; symlinks are not followed). */
export async function findShellScripts(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && !SKIP_DIRS.has(e.name)) out.push(...(await findShellScripts(p)));
    else if (e.isFile() && (await isShellScript(p))) out.push(p);
  }
  return out.sort();
}

interface ShellcheckComment {
  file: string;
  line: number;
  level: string;
  code: number;
  message: string;
}

/** Runs shellcheck on the files; every comment of severity info or worse is a finding. */
export async function shellcheck(files: string[]): Promise<Finding[]> {
  if (files.length === 0) return [];
  const res = await run("shellcheck", ["--format=json1", "--severity=info", "--external-sources", ...files], { what: "shellcheck", hint: "apt-get install shellcheck", allowFailure: true });
  // Exit 1 means "found something"; anything else is shellcheck failing.
  if (res.code !== 0 && res.code !== 1) throw new KilnError(`shellcheck failed: ${res.stderr.trim().split("\n")[0] ?? `exit code ${res.code}`}`);
  const stdout = res.stdout.toString("utf8");
  const { comments } = JSON.parse(stdout) as { comments: ShellcheckComment[] };
  return comments.map((c) => ({ file: path.resolve(c.file), line: c.line, rule: `SC${c.code}`, message: `${c.level}: ${c.message}` }));
}
