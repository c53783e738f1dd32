import { describe, expect, it } from "vitest";
import { copyrightLicenses, licenseRef, spdxLicenseId, synopsisToSpdx, topLevelConjuncts } from "./licenses.ts";

const DEP5 = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: example
Source: https://example.org

Files: *
Copyright: 2020 Someone
License: GPL-2+
 This program is free software; you can redistribute it.

Files: lib/*
Copyright: 2021 Someone Else
License: Expat or Apache-2.0

Files: compat/*
License: BSD-3-clause and GPL-2+

Files: debian/*
License: public-domain

License: public-domain
 Anyone may use this.
`;

describe("Debian license names as SPDX identifiers", () => {
  it("maps GNU names with and without `+`", () => {
    expect(spdxLicenseId("GPL-2+")).toBe("GPL-2.0-or-later");
    expect(spdxLicenseId("GPL-2")).toBe("GPL-2.0-only");
    expect(spdxLicenseId("LGPL-2.1+")).toBe("LGPL-2.1-or-later");
    expect(spdxLicenseId("AGPL-3")).toBe("AGPL-3.0-only");
    expect(spdxLicenseId("GFDL-NIV-1.3+")).toBe("GFDL-1.3-no-invariants-or-later");
  });

  it("maps Debian spellings and takes SPDX ids in any case", () => {
    expect(spdxLicenseId("Expat")).toBe("MIT");
    expect(spdxLicenseId("BSD-3-clause")).toBe("BSD-3-Clause");
    expect(spdxLicenseId("apache-2.0")).toBe("Apache-2.0");
    expect(spdxLicenseId("Zlib")).toBe("Zlib");
  });

  it("makes a LicenseRef of what SPDX does not list", () => {
    expect(spdxLicenseId("public-domain")).toBe("LicenseRef-public-domain");
    expect(spdxLicenseId("MIT/X11")).toBe("LicenseRef-MIT-X11");
    expect(licenseRef("GPL-3+ with Autoconf-data exception")).toBe("LicenseRef-GPL-3-with-Autoconf-data-exception");
  });
});

describe("DEP-5 synopses", () => {
  it("keeps and/or, with exceptions, and comma grouping", () => {
    expect(synopsisToSpdx("GPL-2+ or Artistic")).toBe("GPL-2.0-or-later OR Artistic-1.0-Perl");
    expect(synopsisToSpdx("GPL-3+ with Bison exception")).toBe("GPL-3.0-or-later WITH Bison-exception-2.2");
    expect(synopsisToSpdx("GPL-2+ with OpenSSL exception")).toBe("LicenseRef-GPL-2-with-OpenSSL-exception");
    expect(synopsisToSpdx("GPL-2+ or Artistic, and BSD-3-clause")).toBe("(GPL-2.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause");
  });

  it("splits an expression into its AND-ed parts only at the top level", () => {
    expect(topLevelConjuncts("A AND (B OR C) AND D")).toEqual(["A", "(B OR C)", "D"]);
    expect(topLevelConjuncts("A AND B OR C")).toEqual(["A AND B OR C"]);
  });
});

describe("copyright files", () => {
  it("reads every Files paragraph's license of a machine-readable file, each part once", () => {
    const found = copyrightLicenses(DEP5)!;
    expect(found.expression).toBe("GPL-2.0-or-later AND (MIT OR Apache-2.0) AND BSD-3-Clause AND LicenseRef-public-domain");
    expect([...found.refs]).toEqual([["LicenseRef-public-domain", "public-domain"]]);
  });

  it("asserts nothing for a free-form file or one that does not parse", () => {
    expect(copyrightLicenses("This is the Debian prepackaged version of the GNU C Library.\n\nCopyright 1991 FSF\n")).toBeUndefined();
    expect(copyrightLicenses("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: x\n")).toBeUndefined();
  });

  it("reads CRLF files too", () => {
    expect(copyrightLicenses(DEP5.replace(/\n/g, "\r\n"))?.expression).toMatch(/^GPL-2.0-or-later AND/);
  });
});
