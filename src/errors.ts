/**
 * A KilnError is a problem the user can act on: it is printed as one line
 * ("kiln: <message> (<hint>)") with a non-zero exit code and no stack trace.
 * Anything else that escapes is a bug and is printed with its stack.
 */
export class KilnError extends Error {
  constructor(
    message: string,
    /** What to do about it, e.g. "run `kiln refresh debian`". */
    readonly hint?: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "KilnError";
  }

  /** The single line shown to the user. */
  toLine(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
}

export function isKilnError(e: unknown): e is KilnError {
  return e instanceof KilnError;
}
