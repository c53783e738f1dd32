/** `kiln test IMAGE[:TARGET]`: static policy, then a hardened run with health, command tests and probes. */
import fs from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { CatalogState } from "../../catalog/state.ts";
import { recordTest, summarizeTest } from "../../catalog/test-records.ts";
import { formatResults, junitXml, type CheckResult } from "../../checks/results.ts";
import { testImage } from "../../checks/test-image.ts";
import { KilnError } from "../../errors.ts";
import { catalogRoot } from "../../paths.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";
import { platformList } from "./checks-common.ts";
import { withExamples } from "../examples.ts";
import { openExistingStore } from "../../catalog/existing-store.ts";
import { requireBuilt, withParentsHint } from "../../catalog/with-parents.ts";

interface TestFlags extends SettingsFlags {
  platform?: string[];
  junit?: string;
  staticOnly?: boolean;
  healthTimeout?: string;
}

export function register(program: Command): void {
  addSettingsOptions(
    withExamples(program.command("test"), [
      ["kiln test router", "policy, a hardened run, health, tests and probes, on every stored platform"],
      ["kiln test router --platform linux/amd64", "one platform"],
      ["kiln test router --static-only", "only the static policy, no container"],
      ["kiln test router --junit report.xml", "also a JUnit report for CI"],
    ])
      .description("check a stored image: static policy, then run it hardened (health, command tests, probes); exit 1 on failures")
      .argument("<image>", "catalog ref: name or name:target (built into the local store)")
      .option("--platform <platforms>", "platform(s) to test (default: every platform in the store), repeatable or comma-separated", (v: string, p: string[] = []) => [...p, v])
      .option("--junit <file>", "also write a JUnit XML report")
      .option("--static-only", "only the static policy: start no container")
      .option("--health-timeout <seconds>", "how long to wait for the HEALTHCHECK to turn healthy", "120"),
  ).action(async (ref: string, flags: TestFlags) => {
    const settings = await settingsFrom(flags);
    const timeout = Number(flags.healthTimeout);
    if (!Number.isFinite(timeout) || timeout <= 0) throw new KilnError(`invalid --health-timeout "${flags.healthTimeout}"`, "give seconds, e.g. --health-timeout 60");
    const store = await openExistingStore(settings, () => withParentsHint(ref, { settings }));
    await requireBuilt(ref, { settings, store });
    let tested: { ref: string; digest: string } | undefined;
    const results: CheckResult[] = await testImage({
      ref,
      store,
      root: catalogRoot(),
      platforms: platformList(flags.platform),
      staticOnly: flags.staticOnly,
      healthTimeoutMs: timeout * 1000,
      onImage: (r, digest) => (tested = { ref: r, digest }),
    });
    process.stdout.write(formatResults(results));
    // Kept by digest for `kiln site`: the result of this run, per platform.
    if (tested && results.length) {
      const { ref: testedRef, digest } = tested;
      await recordTest(CatalogState.forStore(store.dir), testedRef, digest, summarizeTest(results, !!flags.staticOnly, new Date())).catch((e: unknown) => {
        process.stderr.write(`kiln: the test result of ${testedRef} was not recorded: ${e instanceof Error ? e.message : String(e)}\n`);
      });
    }
    if (flags.junit) {
      await fs.mkdir(path.dirname(path.resolve(flags.junit)), { recursive: true });
      await fs.writeFile(flags.junit, junitXml(results));
    }
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  });
}
