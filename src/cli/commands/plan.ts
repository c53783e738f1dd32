/** `kiln plan IMAGE[:TARGET]`: the resolved build plan and the exact engine command line; nothing runs. */
import type { Command } from "commander";
import { planBuild, renderEngineArgv } from "../../build/build.ts";
import { planCatalog } from "../../catalog/plan.ts";
import { CATEGORIES, type Category } from "../../definition/schema.ts";
import { engineFromSettings } from "../../engine/common.ts";
import { KilnError } from "../../errors.ts";
import type { BuildPlan } from "../../plan/types.ts";
import { addPlanOptions, buildRequestFrom, settingsFrom, type BuildFlags } from "../options.ts";
import { formatArgv } from "../format.ts";
import { withExamples } from "../examples.ts";
import { openExistingStore } from "../../catalog/existing-store.ts";
import { withParentsHint } from "../../catalog/with-parents.ts";
import { partOf } from "../../util/words.ts";
import { preflight } from "../preflight.ts";

export function register(program: Command): void {
  addPlanOptions(withExamples(program.command("plan"), [
      ["kiln plan router", "the resolved plan and the engine command line"],
      ["kiln plan router --json", "the same, as data"],
      ["kiln plan --all", "every target in build order, with why it would build"],
    ]).argument("[image]", "catalog image, `name` or `name:target`").description("print the resolved build plan and engine command line (secrets redacted)"))
    .option("--all", "plan every image target of the catalog, in build order")
    .option("--category <category>", `plan one category (${CATEGORIES.join(", ")})`)
    .action(async (image: string | undefined, flags: BuildFlags & { all?: boolean; category?: string }) => {
      const settings = await settingsFrom(flags);
      if (flags.all || flags.category) {
        if (flags.category && !(CATEGORIES as readonly string[]).includes(flags.category)) {
          throw new KilnError(`unknown category "${flags.category}"`, `use one of ${CATEGORIES.join(", ")}`);
        }
        const { ref: _ref, ...request } = buildRequestFrom(image ?? "", flags);
        void _ref;
        const planned = await planCatalog({ all: flags.all, category: flags.category as Category | undefined, refs: image ? [image] : [] }, request, { settings });
        const engine = engineFromSettings(settings);
        if (flags.json) {
          process.stdout.write(JSON.stringify(planned.map((p) => ({ ...p, argv: p.plan ? renderEngineArgv(p.plan, engine) : undefined })), null, 2) + "\n");
        } else {
          for (const p of planned) {
            process.stdout.write(`# ${p.ref}: ${p.status}${p.reasons.length ? ` (${p.reasons.join("; ")})` : ""}\n`);
            process.stdout.write(p.plan ? describePlan(p.plan, engine.driver, renderEngineArgv(p.plan, engine)) : `  ${p.refused ? "refused" : "not plannable yet"}: ${p.refused ?? p.unplanned}\n`);
          }
        }
        // A definition or lock a build would refuse fails the plan, as it would fail the build.
        const refused = planned.filter((p) => p.refused);
        if (refused.length) throw new KilnError(`${partOf(refused.length, planned.length, "target")} would be refused by a build: ${refused.map((p) => p.ref).join(", ")}`, `first: ${refused[0]!.refused}`);
        return;
      }
      if (!image) throw new KilnError("no image named", "kiln plan IMAGE (see `kiln ls`), or --all");
      const request = buildRequestFrom(image, flags);
      const store = await openExistingStore(settings, () => withParentsHint(request.ref, { settings }));
      await preflight(request.ref, { settings, store });
      const { plan } = await planBuild(request, { settings });
      const engine = engineFromSettings(settings);
      const argv = renderEngineArgv(plan, engine);
      process.stdout.write(flags.json ? JSON.stringify({ plan, engine: { driver: engine.driver }, argv }, null, 2) + "\n" : describePlan(plan, engine.driver, argv));
    });
}

export function describePlan(plan: BuildPlan, driver: string, argv: string[]): string {
  const rows: [string, string][] = [
    ["dockerfile", plan.dockerfile],
    ["context", plan.contextDir],
    ["stage", plan.stage ?? "(last)"],
    ["platforms", plan.platforms.join(", ")],
    ["source date", `${plan.sourceDateEpoch} (${new Date(plan.sourceDateEpoch * 1000).toISOString()})`],
    ...Object.entries(plan.buildArgs).map(([k, v]): [string, string] => ["build arg", `${k}=${v}`]),
    ...Object.entries(plan.labels).map(([k, v]): [string, string] => ["label", `${k}=${v}`]),
    ...plan.secrets.map((s): [string, string] => ["secret", s.id]),
    ...Object.entries(plan.namedContexts).map(([k, c]): [string, string] => ["context", `${k} = ${"digest" in c ? c.digest : c.dir}`]),
    ...plan.prepare.map((p): [string, string] => ["prepare", p]),
    ...plan.addHosts.map((h): [string, string] => ["add host", h]),
    ...plan.outputs.map((o): [string, string] => ["output", `${o.type}:${o.dest}`]),
    ...plan.load.map((r): [string, string] => ["load", r]),
    ...plan.push.map((r): [string, string] => ["push", r]),
  ];
  if (plan.noCache) rows.push(["cache", "disabled"]);
  return [`plan ${plan.ref}`, ...rows.map(([k, v]) => `  ${k.padEnd(12)} ${v}`), `engine ${driver}:`, `  ${formatArgv(argv)}`, ""].join("\n");
}
