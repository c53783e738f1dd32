import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createProgress, type Progress } from "./progress.ts";

// Captured from `docker buildx build --progress=rawjson` (buildx 0.13.1, docker 26.1.5),
// see test/fixtures/progress/make-fixtures.sh. buildx writes indented multi-line JSON records.
const FIXTURES = path.resolve(import.meta.dirname, "../../test/fixtures/progress");
const fixture = (name: string): string[] => readFileSync(path.join(FIXTURES, name), "utf8").split("\n");

class FakeStream {
  chunks: string[] = [];
  constructor(
    readonly isTTY = false,
    readonly columns = 80,
  ) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  get text(): string {
    return this.chunks.join("");
  }
}

afterEach(() => {
  vi.useRealTimers();
});

function replay(progress: Progress, lines: string[], ok: boolean): void {
  for (const line of lines) progress.feed(line);
  progress.done(ok);
}

const RUN3 = `RUN for i in 1 2 3; do echo "compiling part $i"; done; sleep 1; wc -c /hello.txt > /size; cat /size`;
const BUSYBOX = `RUN /bin/busybox --install -s /bin && echo "installed busybox on $(uname -m)"`;
const FAILING = `RUN for i in $(seq 1 25); do echo "make: compiling unit $i"; done; echo "error: undefined reference to 'main'" >&2; exit 3`;

describe("plain progress", () => {
  it("prints one line per finished step of a multi-platform build, then a summary", () => {
    const out = new FakeStream();
    const progress = createProgress("plain", out);
    replay(progress, fixture("buildx-success.jsonl"), true);
    expect(out.text).toBe(
      [
        "#1 [internal] load build definition from Dockerfile 0.0s",
        "#2 [internal] load .dockerignore 0.0s",
        "#8 [internal] load build context 0.0s",
        "#14 [internal] load build context 0.0s",
        "[linux/amd64] #7 [base 1/1] ADD rootfs-amd64.tar / CACHED",
        `[linux/amd64] #6 [build 1/3] ${BUSYBOX} CACHED`,
        "[linux/arm64] #13 [base 1/1] ADD rootfs-arm64.tar / CACHED",
        `[linux/arm64] #12 [build 1/3] ${BUSYBOX} CACHED`,
        "[linux/amd64] #5 [build 2/3] COPY hello.txt /hello.txt 0.0s",
        "[linux/arm64] #11 [build 2/3] COPY hello.txt /hello.txt 0.0s",
        `[linux/amd64] #4 [build 3/3] ${RUN3} 1.2s`,
        "[linux/amd64] #3 [stage-2 1/1] COPY --from=build /size /size 0.0s",
        `[linux/arm64] #10 [build 3/3] ${RUN3} 1.3s`,
        "#15 exporting to oci image format 0.1s",
        "done: 14 steps, 4 cached, 1.4s",
        "  linux/amd64: 5 steps, 2 cached",
        "  linux/arm64: 4 steps, 2 cached",
        "",
      ].join("\n"),
    );
    expect(out.text).not.toContain("\x1b");
    expect(out.text).not.toContain("28 /hello.txt"); // step output stays out of CI logs
    expect(progress.stats()).toEqual({ steps: 14, cached: 4 });
    expect(progress.failureSummary()).toBeUndefined();
  });

  it("marks the failed and the canceled step and passes buildx's own error text through", () => {
    const out = new FakeStream();
    const progress = createProgress("plain", out);
    replay(progress, fixture("buildx-failure.jsonl"), false);
    const lines = out.text.split("\n");
    expect(lines.slice(4, 10)).toEqual([
      "[linux/amd64] #5 [1/3] ADD rootfs-amd64.tar / CACHED",
      "[linux/arm64] #9 [1/3] ADD rootfs-arm64.tar / CACHED",
      `[linux/amd64] #4 [2/3] ${BUSYBOX} 0.2s`,
      `[linux/arm64] #8 [2/3] ${BUSYBOX} 0.3s`,
      `[linux/amd64] #3 [3/3] ${FAILING} ERROR: did not complete successfully: exit code: 3`,
      `[linux/arm64] #7 [3/3] ${FAILING} CANCELED`,
    ]);
    expect(lines).toContain("Dockerfile.fail:5");
    expect(lines.slice(-4)).toEqual([
      "failed: 10 steps, 2 cached, 0.6s",
      "  linux/amd64: 3 steps, 1 cached",
      "  linux/arm64: 3 steps, 1 cached",
      "",
    ]);
  });
});

describe("failure summary", () => {
  it("names the failed step, its platform and error, and its last 20 log lines", () => {
    const progress = createProgress("quiet", new FakeStream());
    replay(progress, fixture("buildx-failure.jsonl"), false);
    const units = Array.from({ length: 19 }, (_, i) => `  make: compiling unit ${i + 7}`);
    expect(progress.failureSummary()).toBe(
      [
        `[linux/amd64] #3 [3/3] ${FAILING} failed: did not complete successfully: exit code: 3`,
        "last 20 log lines of #3:",
        ...units,
        "  error: undefined reference to 'main'",
      ].join("\n"),
    );
  });

  it("reports a failure before any command ran (missing file in the context)", () => {
    const progress = createProgress("quiet", new FakeStream());
    replay(progress, fixture("buildx-missing-file.jsonl"), false);
    expect(progress.failureSummary()).toBe(
      '#3 [1/1] COPY missing.txt / failed: failed to calculate checksum of ref alr0nduietodzxjkpgnbjh6wq::uqbf0u58magrj2qc3ji0h8d6n: "/missing.txt": not found',
    );
  });

  it("falls back to the engine's own lines when the output was not a progress stream", () => {
    const progress = createProgress("plain", new FakeStream());
    for (const line of fixture("buildx-bad-flag.txt")) progress.feed(line);
    expect(progress.failureSummary()).toBeUndefined(); // not failed (yet)
    progress.done(false);
    expect(progress.failureSummary()).toBe("unknown flag: --bogus\nSee 'docker buildx build --help'.");
  });

  it("leads with buildx's ERROR line when no step carries the error", () => {
    const progress = createProgress("quiet", new FakeStream());
    replay(progress, ["some context", "ERROR: failed to solve: exporting: no space left on device", "more"], false);
    expect(progress.failureSummary()?.split("\n")).toEqual([
      "ERROR: failed to solve: exporting: no space left on device",
      "some context",
      "more",
    ]);
  });

  it("keeps the last line without a newline, and only what a carriage return drew last", () => {
    const progress = createProgress("quiet", new FakeStream());
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const v = "sha256:aa";
    const records = [
      { vertexes: [{ digest: v, name: "[linux/arm/v7 build 1/1] RUN fetch", started: "2026-01-01T00:00:00Z" }] },
      { logs: [{ vertex: v, stream: 1, data: b64("downloading 10%\rdownloading 100%\nhalf a ") }] },
      { logs: [{ vertex: v, stream: 2, data: b64("warn\n") }, { vertex: v, stream: 1, data: b64("line") }] },
      { vertexes: [{ digest: v, name: "[linux/arm/v7 build 1/1] RUN fetch", started: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:00:02.5Z", error: "exit code: 1" }] },
    ];
    // Compact one-record-per-line JSON is accepted as well as buildx's indented form.
    replay(progress, records.map((r) => JSON.stringify(r)), false);
    expect(progress.failureSummary()).toBe(
      [
        "[linux/arm/v7] #1 [build 1/1] RUN fetch failed: exit code: 1",
        "last 3 log lines of #1:",
        "  downloading 100%",
        "  warn",
        "  half a line",
      ].join("\n"),
    );
  });
});

describe("json and quiet", () => {
  it("json passes the engine's lines through unchanged", () => {
    const out = new FakeStream();
    const lines = fixture("buildx-failure.jsonl");
    replay(createProgress("json", out), lines, false);
    expect(out.text).toBe(lines.filter((l) => l.trim() !== "").map((l) => `${l}\n`).join(""));
  });

  it("quiet writes nothing but still counts", () => {
    const out = new FakeStream(true);
    const progress = createProgress("quiet", out);
    replay(progress, fixture("buildx-success.jsonl"), true);
    expect(out.text).toBe("");
    expect(progress.stats()).toEqual({ steps: 14, cached: 4 });
  });

  it("auto is plain without a terminal and live on one", () => {
    const plain = new FakeStream(false);
    replay(createProgress("auto", plain), fixture("buildx-success.jsonl"), true);
    expect(plain.text).not.toContain("\x1b[");
    const tty = new FakeStream(true);
    replay(createProgress("auto", tty, { color: false }), fixture("buildx-success.jsonl"), true);
    expect(tty.text).toContain("✔ built: 14 steps, 4 cached, 1.4s");
  });
});

describe("plain progress heartbeat", () => {
  it("names the oldest running step after a minute of silence, and stops at the end", () => {
    vi.useFakeTimers();
    let now = 0;
    const out = new FakeStream();
    const progress = createProgress("plain", out, { now: () => now });
    progress.feed(JSON.stringify({ vertexes: [{ digest: "sha256:1", name: "[linux/arm64 2/2] RUN make", started: "2026-01-01T00:00:00Z" }] }));
    now = 30_000;
    progress.feed(JSON.stringify({ vertexes: [{ digest: "sha256:2", name: "[linux/amd64 2/2] RUN make", started: "2026-01-01T00:00:30Z" }] }));
    now = 59_000;
    vi.advanceTimersByTime(59_000);
    expect(out.text).toBe(""); // under a minute of silence
    now = 61_000;
    vi.advanceTimersByTime(5_000);
    expect(out.text).toBe("still running: [linux/arm64] #1 [2/2] RUN make 61.0s (+1 more)\n");
    now = 100_000;
    vi.advanceTimersByTime(5_000);
    expect(out.chunks).toHaveLength(1); // the heartbeat itself counts as output
    progress.done(true);
    const end = out.chunks.length;
    now = 500_000;
    vi.advanceTimersByTime(400_000);
    expect(out.chunks).toHaveLength(end);
  });

  it("stays silent while nothing runs", () => {
    vi.useFakeTimers();
    let now = 0;
    const out = new FakeStream();
    createProgress("plain", out, { now: () => now, heartbeatMs: 1_000 });
    now = 10_000;
    vi.advanceTimersByTime(10_000);
    expect(out.text).toBe("");
  });
});

describe("tty progress", () => {
  it("redraws a per-platform view in place, throttled, and ends with a summary", () => {
    vi.useFakeTimers();
    let now = 1_000_000;
    const out = new FakeStream(true, 72);
    const progress = createProgress("tty", out, { now: () => now, color: false });
    const lines = fixture("buildx-success.jsonl");
    // Up to the point where both `[build 3/3] RUN` steps run and amd64 printed its first output.
    const cut = lines.findIndex((l) => l.includes('"data": "Y29tcGlsaW5nIHBhcnQgMQpjb21waWxpbmcgcGFydCAyCmNvbXBpbGluZyBwYXJ0IDMK"'));
    expect(cut).toBeGreaterThan(0);
    const firstHalf = lines.slice(0, cut + 10);
    for (const line of firstHalf) progress.feed(line);
    expect(out.text).toBe(""); // nothing drawn before the throttle interval
    now += 2300;
    vi.advanceTimersByTime(100);
    const frame1 = out.text;
    expect(out.chunks).toHaveLength(1);
    const view = frame1.split("\n").map((l) => l.replace(/^\x1b\[2K/, ""));
    expect(view[0]).toBe("[+] Building 2.3s  10 done, 4 cached");
    const running = '   ▸ [build 3/3] RUN for i in 1 2 3; do echo "compiling part $i"…  2.3s';
    expect(view).toEqual([
      "[+] Building 2.3s  10 done, 4 cached",
      " linux/amd64  3 done, 2 cached, 1 running",
      running,
      "     │ compiling part 3",
      " linux/arm64  3 done, 2 cached, 1 running",
      running,
      "\x1b[J",
    ]);
    for (const line of view) expect([...line].length).toBeLessThanOrEqual(71);

    // Many records within one interval give one redraw, starting with a cursor-up over the old view.
    for (const line of lines.slice(cut + 10)) progress.feed(line);
    now += 100;
    vi.advanceTimersByTime(100);
    expect(out.chunks).toHaveLength(2);
    expect(out.chunks[1]).toMatch(/^\x1b\[\d+A\r\x1b\[2K\[\+\] Building 2\.4s {2}14 done, 4 cached\n/);

    progress.done(true);
    const last = out.chunks.at(-1) ?? "";
    expect(out.chunks.at(-2)).toMatch(/^\x1b\[\d+A\r\x1b\[J$/); // the live view is erased
    expect(last).toBe("✔ built: 14 steps, 4 cached, 1.4s\n  linux/amd64: 5 steps, 2 cached\n  linux/arm64: 4 steps, 2 cached\n");
    now += 5000;
    vi.advanceTimersByTime(1000);
    expect(out.chunks.at(-1)).toBe(last); // no drawing after done
  });

  it("refreshes elapsed times once a second while steps run", () => {
    vi.useFakeTimers();
    let now = 0;
    const out = new FakeStream(true);
    const progress = createProgress("tty", out, { now: () => now, color: false });
    progress.feed(JSON.stringify({ vertexes: [{ digest: "sha256:1", name: "[linux/amd64 2/2] RUN make", started: "2026-01-01T00:00:00Z" }] }));
    vi.advanceTimersByTime(100);
    expect(out.text).toContain("▸ [2/2] RUN make  0.0s");
    now = 1500;
    vi.advanceTimersByTime(1000);
    expect(out.chunks.at(-1)).toContain("▸ [2/2] RUN make  1.5s");
    expect(out.chunks.at(-1)).toMatch(/^\x1b\[3A\r/);
    progress.done(false);
    expect(out.chunks.at(-1)).toBe("✘ failed: 0 steps, 0 cached\n");
  });
});
