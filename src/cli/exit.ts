/**
 * Ending the process once its output is out. `process.exit()` drops what a pipe has not taken
 * yet (an SBOM of a few hundred KB read by another program came out cut); an empty write's
 * callback runs after every earlier write on that stream is flushed.
 */
export function exitAfterOutput(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}
