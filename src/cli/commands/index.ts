/**
 * Every subcommand, in help order. Each module is imported only when its
 * command runs (or for the full help), so `kiln status` does not pay for
 * loading `kiln test`. Add a command: write its module and list it here.
 */
import type { Command } from "commander";

export type RegisterCommand = (program: Command) => void;

export const commands: Record<string, () => Promise<{ register: RegisterCommand }>> = {
  build: () => import("./build.ts"),
  plan: () => import("./plan.ts"),
  status: () => import("./status.ts"),
  ls: () => import("./ls.ts"),
  test: () => import("./test.ts"),
  lint: () => import("./lint.ts"),
  verify: () => import("./verify.ts"),
  diff: () => import("./diff.ts"),
  referrers: () => import("./referrers.ts"),
  rebuild: () => import("./rebuild.ts"),
  engine: () => import("./engine.ts"),
  lock: () => import("./lock.ts"),
  refresh: () => import("./refresh.ts"),
  outdated: () => import("./outdated.ts"),
  site: () => import("./site.ts"),
  sign: () => import("./sign.ts"),
  "verify-signature": () => import("./verify-signature.ts"),
  sbom: () => import("./sbom.ts"),
};

/** The modules a command line needs: its subcommand's, or all of them for help and unknown commands. */
export async function commandsFor(argv: string[]): Promise<RegisterCommand[]> {
  const name = argv.find((a) => !a.startsWith("-"));
  const chosen = name && name in commands ? [commands[name]!] : Object.values(commands);
  return (await Promise.all(chosen.map((load) => load()))).map((m) => m.register);
}
