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

const MAKE_ROOM = "free some space, or point the store (KILN_STORE) or the cache (KILN_CACHE_DIR) at a larger disk, and run again";

/**
 * A full disk is the user's to fix, not a bug: one line saying what could
 * not be written (`what`, else the path the system names) and what to do.
 */
export function diskFullError(e: unknown, what?: string, hint?: string): KilnError | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err?.code !== "ENOSPC" && err?.code !== "EDQUOT") return undefined;
  const reason = err.code === "EDQUOT" ? "disk quota exceeded" : "no space left on device";
  const message = what ? `${what}: ${reason}` : `cannot write ${err.path ?? "a file"}: ${reason}`;
  return new KilnError(message, hint ? `${hint}; ${MAKE_ROOM}` : MAKE_ROOM);
}
