/**
 * The page shell every page shares: one inline stylesheet, allowed by its
 * hash in a Content-Security-Policy that forbids everything else (no script,
 * no font, no request of any kind but a `data:` icon), so a page opened from
 * the file system loads nothing from anywhere.
 */
import { createHash } from "node:crypto";
import { html, raw, type Html } from "./html.ts";

export const CSS = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.4;color:#1d232b;background:#fbfbfa}
body{margin:0 auto;max-width:76rem;padding:1rem 1.5rem 3rem}
header{display:flex;gap:1rem;align-items:baseline;border-bottom:1px solid #d5d9de;margin-bottom:1rem}
header h1{font-size:1.4rem;margin:.6rem 0}
h2{font-size:1.15rem;margin-top:2rem}
h3{font-size:1rem}
a{color:#0b5cad}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.88rem}
th,td{border:1px solid #d5d9de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f4}
td.num{text-align:right;white-space:nowrap}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.85em}
code.digest{word-break:break-all}
pre.run{white-space:pre-wrap;word-break:break-all;background:#1d232b;color:#f3f5f7;padding:.75rem;border-radius:4px}
.ok{color:#146c2e;font-weight:600}
.bad{color:#b3261e;font-weight:600}
.muted{color:#5f6b77}
.plots{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0}
figcaption{font-size:.85rem;color:#5f6b77}
svg.plot{background:#fff;border:1px solid #d5d9de;max-width:100%;height:auto}
svg.plot text{font-size:11px;fill:#5f6b77}
svg.plot .grid{stroke:#eef1f4}
svg.plot .baseline{stroke:#8a949e}
svg.plot .series{fill:none;stroke:#0b5cad;stroke-width:2}
svg.plot .point{fill:#0b5cad;stroke:#fff;stroke-width:1.5}
footer{margin-top:3rem;font-size:.8rem;color:#5f6b77}
`.trim();

const STYLE_HASH = createHash("sha256").update(CSS).digest("base64");

export const CSP = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; img-src data:; base-uri 'none'; form-action 'none'`;

export interface PageOptions {
  title: string;
  /** Path from the page back to the site's root: "" or "../". */
  root: string;
  body: Html;
  generatedAt?: string;
}

export function page(opts: PageOptions): string {
  const doc = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title}</title>
<link rel="icon" href="data:,">
<style>${raw(CSS)}</style>
</head>
<body>
<header><h1>${opts.title}</h1><nav><a href="${opts.root}index.html">catalog</a></nav></header>
<main>
${opts.body}
</main>
<footer>Made by <code>kiln site</code> from the catalog, the local store and kiln's records${opts.generatedAt ? html` on ${opts.generatedAt}` : ""}.</footer>
</body>
</html>
`;
  return doc.text;
}
