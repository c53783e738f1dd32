/** A few example command lines at the end of a command's help: the quickest way to learn a command. */
import type { Command } from "commander";

export function withExamples(cmd: Command, examples: [line: string, what: string][]): Command {
  const width = Math.max(...examples.map(([line]) => line.length));
  return cmd.addHelpText("after", ["", "Examples:", ...examples.map(([line, what]) => `  ${line.padEnd(width)}  # ${what}`)].join("\n"));
}
