/** Small text helpers for command output. */

/** A command line as a copy-pasteable shell string, one flag per line. */
export function formatArgv(argv: string[]): string {
  const quoted = argv.map((a) => (/^[A-Za-z0-9_@%+=:,./<>-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  const lines: string[] = [];
  for (const a of quoted) {
    if (a.startsWith("-") || lines.length === 0) lines.push(a);
    else lines[lines.length - 1] += ` ${a}`;
  }
  return lines.map((l, i) => (i === 0 ? l : `    ${l}`)).join(" \\\n");
}
