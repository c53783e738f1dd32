/**
 * Network probes against a running container: a TCP connect, an HTTP GET
 * with expected status and body, and a metrics endpoint that must answer in
 * the Prometheus text exposition format.
 */
import net from "node:net";

export interface ProbeOutcome {
  ok: boolean;
  message: string;
  details?: string[];
}

export function tcpProbe(host: string, port: number, timeoutMs = 5000): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (o: ProbeOutcome) => {
      socket.destroy();
      resolve(o);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, message: `no answer on ${host}:${port} within ${timeoutMs / 1000}s` }));
    socket.on("connect", () => done({ ok: true, message: `${host}:${port} accepts connections` }));
    socket.on("error", (e) => done({ ok: false, message: `${host}:${port}: ${e.message}` }));
  });
}

async function get(url: string, timeoutMs: number): Promise<{ status: number; body: string; contentType: string } | { error: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    return { status: res.status, body: await res.text(), contentType: res.headers.get("content-type") ?? "" };
  } catch (e) {
    const err = e as Error & { cause?: { message?: string } };
    return { error: err.cause?.message ?? err.message };
  }
}

export async function httpProbe(url: string, expect: { status: number; bodyContains: string[] }, timeoutMs = 5000): Promise<ProbeOutcome> {
  const res = await get(url, timeoutMs);
  if ("error" in res) return { ok: false, message: `GET ${url}: ${res.error}` };
  if (res.status !== expect.status) return { ok: false, message: `GET ${url}: status ${res.status}, expected ${expect.status}`, details: excerpt(res.body) };
  const missing = expect.bodyContains.filter((s) => !res.body.includes(s));
  if (missing.length) return { ok: false, message: `GET ${url}: body lacks ${missing.map((m) => JSON.stringify(m)).join(", ")}`, details: excerpt(res.body) };
  return { ok: true, message: `GET ${url}: ${res.status}${expect.bodyContains.length ? `, body has ${expect.bodyContains.length} expected string(s)` : ""}` };
}

export async function metricsProbe(url: string, timeoutMs = 5000): Promise<ProbeOutcome> {
  const res = await get(url, timeoutMs);
  if ("error" in res) return { ok: false, message: `GET ${url}: ${res.error}` };
  if (res.status !== 200) return { ok: false, message: `GET ${url}: status ${res.status}, expected 200`, details: excerpt(res.body) };
  const check = checkPrometheusText(res.body);
  if (!check.ok) return { ok: false, message: `GET ${url}: not Prometheus text format: ${check.error}` };
  return { ok: true, message: `GET ${url}: ${check.samples} samples of ${check.families} metric families` };
}

function excerpt(body: string): string[] {
  return body.split("\n").slice(0, 5).map((l) => (l.length > 160 ? `${l.slice(0, 160)}...` : l));
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const VALUE = "[-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?|NaN|Inf|inf)";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(?:${LABEL}(?:,${LABEL})*,?)?\\})?[ \\t]+${VALUE}(?:[ \\t]+-?[0-9]+)?$`);
const HELP = new RegExp(`^#[ \\t]+HELP[ \\t]+(${NAME})(?:[ \\t].*)?$`);
const TYPE = new RegExp(`^#[ \\t]+TYPE[ \\t]+(${NAME})[ \\t]+(counter|gauge|histogram|summary|untyped)$`);

/** Validates the Prometheus text exposition format line by line. */
export function checkPrometheusText(text: string): { ok: true; samples: number; families: number } | { ok: false; error: string } {
  let samples = 0;
  const families = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      if (/^#[ \t]+(HELP|TYPE)\b/.test(line)) {
        const m = HELP.exec(line) ?? TYPE.exec(line);
        if (!m) return { ok: false, error: `line ${i + 1}: malformed ${line.split(/\s+/)[1]} comment: ${line.slice(0, 120)}` };
        families.add(m[1]!.replace(/_(bucket|sum|count|total)$/, ""));
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) return { ok: false, error: `line ${i + 1}: not "name{labels} value": ${line.slice(0, 120)}` };
    samples++;
    families.add(m[1]!.replace(/_(bucket|sum|count|total)$/, ""));
  }
  if (samples === 0) return { ok: false, error: "no samples" };
  return { ok: true, samples, families: families.size };
}
