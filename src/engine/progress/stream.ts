/**
 * Splits BuildKit's `--progress=rawjson` stream into JSON records and plain text.
 *
 * buildx 0.13 writes each SolveStatus as indented, multi-line JSON (not one
 * record per line), and after a failure it appends plain text (the Dockerfile
 * excerpt and "ERROR: failed to solve: ..."), which may itself contain braces.
 * So records are assembled line by line: a record starts with a line whose
 * first non-blank character is "{", and ends where its braces balance; any
 * other line between records is text. Compact one-record-per-line JSON works too.
 */

export type StreamItem =
  | { kind: "json"; value: unknown; raw: string[] }
  | { kind: "text"; line: string };

/** Upper bound for one record; anything longer is treated as text (a runaway). */
const MAX_RECORD_LINES = 100_000;

export class JsonRecordSplitter {
  private buffer: string[] = [];
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** Feeds one line (without its newline); returns what became complete. */
  push(line: string): StreamItem[] {
    if (this.buffer.length === 0) {
      if (!line.trimStart().startsWith("{")) return [{ kind: "text", line }];
    }
    this.buffer.push(line);
    this.scan(line);
    if (this.depth > 0) {
      return this.buffer.length > MAX_RECORD_LINES ? this.flush() : [];
    }
    const raw = this.buffer;
    this.reset();
    try {
      return [{ kind: "json", value: JSON.parse(raw.join("\n")), raw }];
    } catch {
      return raw.map((l) => ({ kind: "text", line: l }));
    }
  }

  /** Ends the stream: an unfinished record is returned as text. */
  flush(): StreamItem[] {
    const raw = this.buffer;
    this.reset();
    return raw.map((l) => ({ kind: "text", line: l }));
  }

  private reset(): void {
    this.buffer = [];
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  private scan(line: string): void {
    for (const c of line) {
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === "\\") this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === "{" || c === "[") this.depth++;
      else if (c === "}" || c === "]") this.depth--;
    }
    // A newline inside a JSON string is invalid anyway; do not carry string state over lines.
    this.inString = false;
    this.escaped = false;
  }
}
