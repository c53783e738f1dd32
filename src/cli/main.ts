/**
 * The `kiln` command. Each subcommand lives in src/cli/commands/<name>.ts and
 * registers itself; this file only wires them and turns errors into one line.
 */
import { Command, CommanderError } from "commander";
import { diskFullError, isKilnError } from "../errors.ts";
import { commandsFor } from "./commands/index.ts";
import { sweepDeadSecrets } from "../settings/secrets.ts";
import { exitAfterOutput } from "./exit.ts";
import { describeVersion, kilnVersion } from "./version.ts";

export async function main(argv: string[]): Promise<number> {
  // What a killed run left of the site's secrets goes first, whatever the command.
  sweepDeadSecrets();
  const program = new Command("kiln")
    .description("Reproducible, pinned, multi-arch container images on BuildKit")
    .showHelpAfterError("(run with --help for usage)")
    .option("-V, --version", "print kiln's version, the commit it runs from and whether that checkout has changes")
    .exitOverride();
  if (argv[0] === "--version" || argv[0] === "-V") {
    process.stdout.write(describeVersion(await kilnVersion()) + "\n");
    return 0;
  }
  for (const register of await commandsFor(argv)) register(program);
  // `kiln` alone is a request for help, not a mistake.
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation());
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return process.exitCode ? Number(process.exitCode) : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    const known = isKilnError(e) ? e : diskFullError(e);
    if (known) {
      process.stderr.write(`kiln: ${known.toLine()}\n`);
      return known.exitCode;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => exitAfterOutput(code),
  (e: unknown) => {
    process.stderr.write(`kiln: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    exitAfterOutput(70);
  },
);
