/**
 * gpgv's machine-readable verdict (`--status-fd`), judged the way apt judges
 * it, or more strictly: a file is accepted only when every signature on it is
 * good (GOODSIG and VALIDSIG) and there is at least one. An expired or revoked
 * key, an expired signature, a bad signature or a key outside the keyring
 * refuses the file, whatever gpgv's exit status says (gpgv exits 0 for a
 * signature by an expired key).
 */

export interface GoodSignature {
  /** Fingerprint of the signing (sub)key. */
  fingerprint: string;
  /** Fingerprint of its primary key. */
  primary: string;
  uid: string;
}

export type GpgvVerdict = { ok: true; signers: GoodSignature[] } | { ok: false; reason: string };

/** Status keywords that make a signature worthless, and how each is told to the user. */
const REFUSED: Record<string, (key: string, uid: string) => string> = {
  EXPKEYSIG: (key, uid) => `signed by key ${key}${uid}, which has expired`,
  REVKEYSIG: (key, uid) => `signed by key ${key}${uid}, which has been revoked`,
  EXPSIG: (key, uid) => `the signature by key ${key}${uid} has expired`,
  BADSIG: (key, uid) => `bad signature by key ${key}${uid}: the file is not what was signed`,
  NO_PUBKEY: (key) => `signed by key ${key}, which is not in the keyring`,
  ERRSIG: (key) => `the signature by key ${key} cannot be checked`,
};

/** The status lines (`[GNUPG:] KEYWORD args...`) of gpgv's --status-fd output, as keyword + arguments. */
export function parseStatusLines(text: string): { keyword: string; args: string[] }[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("[GNUPG:] "))
    .map((l) => {
      const [keyword = "", ...args] = l.slice("[GNUPG:] ".length).trimEnd().split(" ");
      return { keyword, args };
    });
}

/**
 * The verdict on one signed file from gpgv's status output. Each signature
 * starts with NEWSIG; a VALIDSIG counts only after a GOODSIG for the same
 * signature. The first refusal found is the reason (with the key's long id
 * and user id, as gpgv names them).
 */
export function judgeGpgvStatus(text: string): GpgvVerdict {
  const lines = parseStatusLines(text);
  const signers: GoodSignature[] = [];
  let goodUid: string | undefined;
  let goods = 0;
  for (const { keyword, args } of lines) {
    if (keyword === "NEWSIG") goodUid = undefined;
    else if (keyword === "GOODSIG") {
      goodUid = args.slice(1).join(" ");
      goods++;
    } else if (keyword === "VALIDSIG") {
      if (goodUid === undefined) return { ok: false, reason: `a VALIDSIG by key ${args[0] ?? "?"} without GOODSIG` };
      signers.push({ fingerprint: args[0] ?? "", primary: args[9] ?? args[0] ?? "", uid: goodUid });
      goodUid = undefined;
    } else if (keyword in REFUSED) {
      // ERRSIG comes with NO_PUBKEY when the key is missing: the latter says it better.
      if (keyword === "ERRSIG" && lines.some((l) => l.keyword === "NO_PUBKEY")) continue;
      const fingerprint = keyword === "ERRSIG" && /^[0-9A-F]{40}$/.test(args[6] ?? "") ? args[6]! : undefined;
      const uid = keyword === "ERRSIG" || keyword === "NO_PUBKEY" ? "" : args.slice(1).join(" ");
      return { ok: false, reason: REFUSED[keyword]!(fingerprint ?? args[0] ?? "?", uid ? ` (${uid})` : "") };
    }
  }
  if (!signers.length) return { ok: false, reason: "no valid signature" };
  if (signers.length !== goods) return { ok: false, reason: "a GOODSIG without VALIDSIG" };
  return { ok: true, signers };
}
