/**
 * HTML text: a tagged template that escapes every interpolated value unless
 * it is already HTML (`Html`, made by `html` itself or `raw`). Arrays are
 * joined, `undefined`, `null` and `false` print nothing. Nothing else in the
 * site writes markup, so nothing from a definition, a README or a lock can
 * reach a page unescaped.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** Trusted markup (generated here, e.g. an SVG plot): printed as is. */
export function raw(text: string): Html {
  return new Html(text);
}

type Value = Html | string | number | boolean | null | undefined | Value[];

function print(v: Value): string {
  if (v === undefined || v === null || v === false) return "";
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(print).join("");
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += print(v) + strings[i + 1]!));
  return new Html(out);
}

/** A line of Markdown from a README (a table cell): escaped, with `code` spans and `\|` kept. */
export function inlineMarkdown(text: string): Html {
  const parts = text.replace(/\\\|/g, "|").split("`");
  return new Html(parts.map((p, i) => (i % 2 === 1 ? `<code>${escapeHtml(p)}</code>` : escapeHtml(p))).join(""));
}
