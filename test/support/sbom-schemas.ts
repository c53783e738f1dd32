/**
 * The official schemas the SBOMs must satisfy: SPDX 2.3 (test/fixtures/sbom, hash checked)
 * with Ajv's draft 2019-09 support, and CycloneDX 1.5 through the CycloneDX library's own
 * strict validator (Ajv and the schemas the library ships).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import { Ajv2019 } from "ajv/dist/2019.js";
import addFormats from "ajv-formats";

const SPDX_SCHEMA = path.resolve(import.meta.dirname, "../fixtures/sbom/spdx-2.3.schema.json");
const SPDX_SCHEMA_SHA256 = "ed9c4def98a8117d5d9ccb152cf05b5d6ba2a0958cac5f1d700a6de343968f5b";

let spdxValidator: ((doc: unknown) => boolean) & { errors?: unknown } | undefined;

/** Schema errors of an SPDX 2.3 JSON document (empty when valid). */
export function spdxErrors(json: string): string[] {
  if (!spdxValidator) {
    const bytes = readFileSync(SPDX_SCHEMA);
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== SPDX_SCHEMA_SHA256) throw new Error(`${SPDX_SCHEMA} hashes to ${actual}, not the official schema's ${SPDX_SCHEMA_SHA256}`);
    const schema = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
    // The file names its meta-schema with a trailing '#', which Ajv's registry spells without.
    schema.$schema = "https://json-schema.org/draft/2019-09/schema";
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    addFormats.default(ajv);
    spdxValidator = ajv.compile(schema);
  }
  const ok = spdxValidator(JSON.parse(json));
  return ok ? [] : ((spdxValidator.errors as { instancePath: string; message?: string }[]) ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
}

/** Schema errors of a CycloneDX 1.5 JSON document (empty when valid). */
export async function cyclonedxErrors(json: string): Promise<string[]> {
  const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot5);
  const errors = await validator.validate(json);
  return errors === null ? [] : [JSON.stringify(errors).slice(0, 2000)];
}
