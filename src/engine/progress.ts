/**
 * Progress of a BuildKit build, fed line by line from the engine's stderr
 * (`docker buildx build --progress=rawjson` or `buildctl build --progress=rawjson`).
 *
 * Modes: `tty` a live view per platform, `plain` one line per finished step
 * (for CI), `json` the engine's records passed through, `quiet` nothing;
 * `auto` is tty on a terminal, else plain. Whatever the mode, the state is
 * kept so that a failure can name the step, its platform, the error and the
 * step's last log lines.
 */
import { failureBlock } from "./progress/format.ts";
import { type PlainOptions, PlainRenderer } from "./progress/plain.ts";
import type { Output, Renderer } from "./progress/renderer.ts";
import { BuildState } from "./progress/state.ts";
import { JsonRecordSplitter } from "./progress/stream.ts";
import { TtyRenderer, type TtyOptions } from "./progress/tty.ts";

export type ProgressMode = "auto" | "plain" | "tty" | "json" | "quiet";

export interface Progress {
  /** One line of the engine's stderr, without its newline. */
  feed(line: string): void;
  /**
   * The engine exited (ok = exit code 0): finish the display with a summary line.
   * The failure block is not printed here: the caller shows failureSummary()
   * (its first line as the error, the rest before it), whatever the mode.
   */
  done(ok: boolean): void;
  /**
   * What failed, as text whose first line stands alone as an error message:
   * the failed step (platform, name, error) and its last log lines; without a
   * failed step, the engine's own last non-JSON lines once the build failed.
   */
  failureSummary(): string | undefined;
  /** Finished steps, and how many of them came from the cache. */
  stats(): { steps: number; cached: number };
}

/** Lines of the engine's own (non-JSON) output kept for the failure summary. */
const KEPT_TEXT_LINES = 20;

export function createProgress(
  mode: ProgressMode,
  out: Output,
  options: TtyOptions & PlainOptions = {},
): Progress {
  const state = new BuildState(options.now);
  const splitter = new JsonRecordSplitter();
  const text: string[] = [];
  let failed = false;
  let finished = false;
  const renderer = rendererFor(resolveMode(mode, out), state, out, options);

  const handle = (items: ReturnType<JsonRecordSplitter["push"]>): void => {
    for (const item of items) {
      if (item.kind === "json") {
        const changes = state.apply(item.value);
        if (mode === "json") out.write(`${item.raw.join("\n")}\n`);
        renderer?.update(changes);
      } else if (item.line.trim() !== "") {
        text.push(item.line);
        if (text.length > KEPT_TEXT_LINES) text.shift();
        if (mode === "json") out.write(`${item.line}\n`);
        renderer?.text(item.line);
      }
    }
  };

  return {
    feed(line) {
      if (!finished) handle(splitter.push(line.replace(/\r$/, "")));
    },
    done(ok) {
      if (finished) return;
      handle(splitter.flush());
      finished = true;
      failed = !ok;
      renderer?.done(ok);
    },
    failureSummary() {
      const block = failureBlock(state);
      if (block) return block;
      if (!failed || text.length === 0) return undefined;
      // buildx ends with "ERROR: ..." after a Dockerfile excerpt: lead with that line.
      const error = [...text].reverse().find((l) => /^(ERROR|error):/.test(l));
      return error ? [error, ...text.filter((l) => l !== error)].join("\n") : text.join("\n");
    },
    stats() {
      const done = state.finished();
      return { steps: done.length, cached: done.filter((s) => s.cached).length };
    },
  };
}

function resolveMode(mode: ProgressMode, out: Output): ProgressMode {
  if (mode !== "auto") return mode;
  return out.isTTY && process.env.TERM !== "dumb" ? "tty" : "plain";
}

function rendererFor(mode: ProgressMode, state: BuildState, out: Output, options: TtyOptions & PlainOptions): Renderer | undefined {
  if (mode === "tty") return new TtyRenderer(state, out, options);
  if (mode === "plain") return new PlainRenderer(state, out, options);
  return undefined; // json writes records itself; quiet writes nothing
}
