import { describe, expect, it } from "vitest";
import { judgeGpgvStatus, parseStatusLines } from "./gpgv-status.ts";

const FPR = "4CB50190207B4758A3F73A796ED0E7B82643E131";
const PRIMARY = "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8";
const UID = "Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>";
const good = [`[GNUPG:] NEWSIG`, `[GNUPG:] KEY_CONSIDERED ${PRIMARY} 0`, `[GNUPG:] GOODSIG 6ED0E7B82643E131 ${UID}`, `[GNUPG:] VALIDSIG ${FPR} 2026-07-11 1783765031 0 4 0 1 8 01 ${PRIMARY}`];
const judge = (...lines: string[]) => judgeGpgvStatus(lines.join("\n") + "\n");

describe("gpgv --status-fd", () => {
  it("splits status lines into keyword and arguments, ignoring anything else", () => {
    expect(parseStatusLines(`gpgv: Good signature\n[GNUPG:] GOODSIG 6ED0E7B82643E131 ${UID}\n`)).toEqual([{ keyword: "GOODSIG", args: ["6ED0E7B82643E131", ...UID.split(" ")] }]);
  });

  it("accepts good signatures (GOODSIG then VALIDSIG), naming the signers", () => {
    expect(judge(...good, ...good)).toEqual({ ok: true, signers: [{ fingerprint: FPR, primary: PRIMARY, uid: UID }, { fingerprint: FPR, primary: PRIMARY, uid: UID }] });
  });

  it("refuses an expired key even with VALIDSIG (gpgv exits 0 for it)", () => {
    expect(judge(`[GNUPG:] NEWSIG`, `[GNUPG:] KEYEXPIRED 1577923200`, `[GNUPG:] EXPKEYSIG C461E46DA85D4431 Old <o@x>`, `[GNUPG:] VALIDSIG ${FPR} 2020-01-01 1577880000 0 4 0 22 8 01 ${FPR}`)).toEqual({ ok: false, reason: "signed by key C461E46DA85D4431 (Old <o@x>), which has expired" });
  });

  it("refuses one bad signature among good ones", () => {
    expect(judge(...good, `[GNUPG:] NEWSIG`, `[GNUPG:] BADSIG 6ED0E7B82643E131 ${UID}`)).toEqual({ ok: false, reason: `bad signature by key 6ED0E7B82643E131 (${UID}): the file is not what was signed` });
  });

  it("refuses a revoked key and an expired signature", () => {
    expect(judge(`[GNUPG:] REVKEYSIG 6ED0E7B82643E131 ${UID}`, `[GNUPG:] VALIDSIG ${FPR} x`)).toEqual({ ok: false, reason: `signed by key 6ED0E7B82643E131 (${UID}), which has been revoked` });
    expect(judge(`[GNUPG:] EXPSIG 6ED0E7B82643E131 ${UID}`)).toEqual({ ok: false, reason: `the signature by key 6ED0E7B82643E131 (${UID}) has expired` });
  });

  it("refuses a signature by a key outside the keyring (ERRSIG + NO_PUBKEY), even next to a good one", () => {
    expect(judge(...good, `[GNUPG:] NEWSIG`, `[GNUPG:] ERRSIG 78DBA3BC47EF2265 22 8 01 1783765032 9 B8E5F13176D2A7A75220028078DBA3BC47EF2265`, `[GNUPG:] NO_PUBKEY 78DBA3BC47EF2265`)).toEqual({ ok: false, reason: "signed by key 78DBA3BC47EF2265, which is not in the keyring" });
    expect(judge(`[GNUPG:] ERRSIG 78DBA3BC47EF2265 22 8 01 1783765032 4 B8E5F13176D2A7A75220028078DBA3BC47EF2265`)).toEqual({ ok: false, reason: "the signature by key B8E5F13176D2A7A75220028078DBA3BC47EF2265 cannot be checked" });
  });

  it("refuses no signature at all, VALIDSIG without GOODSIG, and GOODSIG without VALIDSIG", () => {
    expect(judge(`[GNUPG:] PLAINTEXT 74 0`)).toEqual({ ok: false, reason: "no valid signature" });
    expect(judge(`[GNUPG:] NEWSIG`, `[GNUPG:] VALIDSIG ${FPR} x`)).toEqual({ ok: false, reason: `a VALIDSIG by key ${FPR} without GOODSIG` });
    expect(judge(...good, `[GNUPG:] NEWSIG`, `[GNUPG:] GOODSIG 6ED0E7B82643E131 ${UID}`)).toEqual({ ok: false, reason: "a GOODSIG without VALIDSIG" });
  });
});
