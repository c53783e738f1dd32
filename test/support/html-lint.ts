/** The site's HTML lint: html-validate's recommended rules, as one message line per finding. */
import { HtmlValidate } from "html-validate";

const validator = new HtmlValidate({ extends: ["html-validate:recommended"] });

export async function lintHtml(text: string, name: string): Promise<string[]> {
  const report = await validator.validateString(text, name);
  return report.results.flatMap((r) => r.messages.map((m) => `${name}:${m.line}: ${m.ruleId}: ${m.message}`));
}
