/**
 * What can be checked about a definition's client scenarios without an
 * engine: the files they mount exist in the definition's folder, and the
 * client and fixture images they name are catalog images. `kiln lint`
 * reports these; `kiln test` refuses to start when one fails.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { closest } from "../catalog/graph.ts";
import { fieldPath, type Catalog, type LoadedImage } from "../definition/catalog.ts";
import { DEFAULT_CLIENT, type RuntimeExpectations } from "../definition/schema.ts";
import { defaultTargetOf, splitRef } from "../plan/plan.ts";
import { clientImagesOf } from "./client-plan.ts";

export interface ClientProblem {
  /** The field, as the definition spells it: `runtime.clients[0].files["/certs"]`. */
  field: string;
  message: string;
}

type FieldPath = (string | number)[];

/** Where a target's runtime block lives in its definition. */
export function runtimeField(image: LoadedImage, target: string): FieldPath {
  return image.def.targets[target]?.runtime ? ["targets", target, "runtime"] : ["runtime"];
}

/** Files mounted from the definition's folder that are not there (and steps that mount a missing test/). */
export async function missingClientFiles(dir: string, runtime: RuntimeExpectations, at: FieldPath): Promise<ClientProblem[]> {
  const out: ClientProblem[] = [];
  const missing = async (rel: string) => !(await fs.stat(path.resolve(dir, rel)).then(() => true, () => false));
  for (const [i, s] of runtime.clients.entries()) {
    const base = [...at, "clients", i];
    const mounts = [
      ...Object.entries(s.files).map(([target, source]) => ({ field: fieldPath([...base, "files", target]), source })),
      ...Object.entries(s.fixtures).flatMap(([alias, f]) => Object.entries(f.files).map(([target, source]) => ({ field: fieldPath([...base, "fixtures", alias, "files", target]), source }))),
    ];
    for (const m of mounts) if (await missing(m.source)) out.push({ field: m.field, message: `${m.source} does not exist in ${dir}` });
    for (const [j, step] of s.steps.entries()) {
      if (step.mount.includes("test") && (await missing("test"))) out.push({ field: fieldPath([...base, "steps", j, "mount"]), message: `"test" mounts ${path.join(dir, "test")}, which does not exist` });
    }
  }
  return out;
}

/** A client or fixture image as written (`given`) and as `name:target` (a bare name takes the image's default target). */
export interface ClientImageRef {
  given: string;
  ref: string;
  field: string;
}

/** Client and fixture images, each with the field that names it; unknown images and targets are problems. */
export function clientImageRefs(runtime: RuntimeExpectations, at: FieldPath, catalog: Catalog): { refs: ClientImageRef[]; problems: ClientProblem[] } {
  const refs: ClientImageRef[] = [];
  const problems: ClientProblem[] = [];
  for (const [i, s] of runtime.clients.entries()) {
    for (const use of clientImagesOf(s)) {
      const field = fieldPath([...at, "clients", i, ...use.field]);
      const { image: name, target } = splitRef(use.ref);
      const image = catalog.images.get(name);
      const why = use.ref === DEFAULT_CLIENT && use.field.join() === "client" ? ` (the default client image)` : "";
      if (!image) {
        const close = closest(name, [...catalog.images.keys()]);
        problems.push({ field, message: `"${use.ref}"${why} is not in the catalog${close ? ` (did you mean ${close}?)` : ""}` });
        continue;
      }
      const t = target ?? defaultTargetOf(image);
      if (!(t in image.def.targets)) {
        problems.push({ field, message: `image ${name} has no target "${t}" (its targets: ${Object.keys(image.def.targets).join(", ")})` });
        continue;
      }
      refs.push({ given: use.ref, ref: `${name}:${t}`, field });
    }
  }
  return { refs, problems };
}
