/** Option parsing shared by the check commands (test, lint, verify, diff). */
import { SUPPORTED_PLATFORMS } from "../../definition/schema.ts";
import { KilnError } from "../../errors.ts";

/** `--platform a,b --platform c` -> [a, b, c], each a supported platform; undefined when not given. */
export function platformList(values: string[] | undefined): string[] | undefined {
  if (!values?.length) return undefined;
  const list = values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  for (const p of list) {
    if (!(SUPPORTED_PLATFORMS as readonly string[]).includes(p)) throw new KilnError(`unsupported platform "${p}"`, `use ${SUPPORTED_PLATFORMS.join(" or ")}`);
  }
  return list;
}
