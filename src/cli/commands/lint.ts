/** `kiln lint [IMAGE...|--all]`: definitions, Dockerfile rules and shellcheck; exit 1 on any finding. */
import type { Command } from "commander";
import { formatFinding } from "../../checks/findings.ts";
import { lint } from "../../checks/lint.ts";
import { KilnError } from "../../errors.ts";
import { catalogRoot } from "../../paths.ts";

export function register(program: Command): void {
  program
    .command("lint")
    .description("check definitions, Dockerfile rules and shell scripts (shellcheck); exit 1 on findings")
    .argument("[images...]", "image names (default: every image, plus hack/)")
    .option("--all", "every image in the catalog, plus hack/")
    .option("--json", "print the findings as JSON")
    .action(async (images: string[], flags: { all?: boolean; json?: boolean }) => {
      if (flags.all && images.length) throw new KilnError("name images or pass --all, not both");
      const result = await lint({ root: catalogRoot(), names: images.length ? images.map((i) => i.split(":")[0]!) : undefined });
      if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
      else {
        for (const f of result.findings) process.stdout.write(formatFinding(f) + "\n");
        const summary = `${result.images.length} image${result.images.length === 1 ? "" : "s"}, ${result.scripts.length} shell script${result.scripts.length === 1 ? "" : "s"}: `;
        process.stderr.write(summary + (result.findings.length ? `${result.findings.length} finding${result.findings.length === 1 ? "" : "s"}\n` : "no findings\n"));
      }
      if (result.findings.length) process.exitCode = 1;
    });
}
