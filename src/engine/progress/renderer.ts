/** What a progress display does with the folded build state. */
import type { Changes } from "./state.ts";

export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Renderer {
  /** After each SolveStatus record. */
  update(changes: Changes): void;
  /** A line of the engine's stderr that is not part of the JSON stream (buildx's own messages). */
  text(line: string): void;
  /** The engine exited; leave a summary (and the failure block when !ok). */
  done(ok: boolean): void;
}
