import { describe, expect, it } from "vitest";
import { chooseInstall, extraSuites, loadPins, parseMadison, parseOsRelease, renderPreferences, renderSources, unsatisfiedPins, type Pins } from "./pins.ts";

const bookworm = parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n');
const noble = parseOsRelease('PRETTY_NAME="Ubuntu 24.04 LTS"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n');

/** Debian version order is not needed here: these tests only compare equal or listed pairs. */
const geq = (newer: [string, string][]) => (a: string, b: string) => a === b || newer.some(([x, y]) => x === a && y === b);

describe("the pins file", () => {
  it("loads, pins the engine to trixie and runc to bookworm", async () => {
    const pins = await loadPins();
    const by = new Map(pins.packages.map((p) => [p.name, p]));
    for (const name of ["docker.io", "docker-cli", "docker-buildx", "containerd"]) expect(by.get(name)?.suite).toBe("trixie");
    expect(by.get("runc")).toMatchObject({ version: "1.1.5+ds1-1+deb12u1", suite: "bookworm" });
    expect(by.get("docker.io")?.version).toBe("26.1.5+dfsg1-9+deb13u1+b1");
    for (const name of ["qemu-user-static", "binfmt-support", "mmdebstrap", "arch-test", "skopeo", "umoci", "docker-registry", "dpkg-dev", "shellcheck", "iptables", "tini"]) {
      expect(by.get(name), name).toMatchObject({ anyVersion: false });
    }
  });
});

describe("apt configuration", () => {
  it("on bookworm adds only trixie, pinned low, with the engine packages, oras and cosign from trixie pinned high", async () => {
    const pins = await loadPins();
    expect(renderSources(pins, bookworm)).toBe(
      "# Written by `kiln engine setup`: Debian suites holding the engine's pinned packages.\n" +
        "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
    );
    expect(renderPreferences(pins, bookworm)).toBe(
      [
        "# Written by `kiln engine setup`: only the packages named here come from the added suites.",
        "",
        "Package: *\nPin: release n=trixie\nPin-Priority: 100",
        "",
        "Package: runc\nPin: release n=bookworm\nPin-Priority: 990",
        "",
        "Package: docker.io docker-cli docker-buildx containerd oras cosign\nPin: release n=trixie\nPin-Priority: 990",
        "",
      ].join("\n"),
    );
  });

  it("on a non-Debian base adds bookworm with its updates and security suites too", async () => {
    const pins = await loadPins();
    expect(extraSuites(pins, noble)).toEqual([
      { mirror: "http://deb.debian.org/debian", suites: ["bookworm", "trixie", "bookworm-updates"] },
      { mirror: "http://deb.debian.org/debian-security", suites: ["bookworm-security"] },
    ]);
    const prefs = renderPreferences(pins, noble);
    for (const s of ["bookworm", "trixie", "bookworm-updates", "bookworm-security"]) expect(prefs).toContain(`Package: *\nPin: release n=${s}\nPin-Priority: 100`);
  });
});

const pins: Pins = {
  mirror: "http://deb.debian.org/debian",
  securityMirror: "http://deb.debian.org/debian-security",
  keyring: "/k.gpg",
  base: "bookworm",
  packages: [
    { name: "docker.io", version: "26.1.5+dfsg1-9+deb13u1+b1", suite: "trixie", anyVersion: false },
    { name: "skopeo", version: "1.9.3+ds1-1+b10", anyVersion: false },
    { name: "curl", version: "7.88.1-10+deb12u15", anyVersion: true },
  ],
};

describe("deciding what to install", () => {
  it("needs nothing when every exact pin is installed, and any version of the anyVersion ones", () => {
    const installed = new Map([
      ["docker.io", "26.1.5+dfsg1-9+deb13u1+b1"],
      ["skopeo", "1.9.3+ds1-1+b10"],
      ["curl", "7.88.1-10+deb12u5"],
    ]);
    expect(unsatisfiedPins(pins, installed)).toEqual([]);
  });

  it("needs missing packages and other versions of exact pins", () => {
    const installed = new Map([["skopeo", "1.18.0+ds1-1+b5"]]);
    expect(unsatisfiedPins(pins, installed)).toEqual([
      { name: "docker.io", want: "26.1.5+dfsg1-9+deb13u1+b1", suite: "trixie", have: undefined, anyVersion: false },
      { name: "skopeo", want: "1.9.3+ds1-1+b10", suite: "bookworm", have: "1.18.0+ds1-1+b5", anyVersion: false },
      { name: "curl", want: "7.88.1-10+deb12u15", suite: "bookworm", have: undefined, anyVersion: true },
    ]);
  });

  it("installs exact versions, and says clearly which pin vanished from the mirror", () => {
    const madison = [
      " docker.io | 26.1.5+dfsg1-9+deb13u2 | http://deb.debian.org/debian trixie/main amd64 Packages",
      " docker.io | 20.10.24+dfsg1-1+deb12u1+b6 | http://deb.debian.org/debian bookworm/main amd64 Packages",
      "    skopeo | 1.9.3+ds1-1+b10 | http://deb.debian.org/debian bookworm/main amd64 Packages",
      "      curl | 7.88.1-10+deb12u16 | http://deb.debian.org/debian bookworm/main amd64 Packages",
    ].join("\n");
    const offers = parseMadison(madison);
    expect(offers.get("docker.io")).toEqual([
      { version: "26.1.5+dfsg1-9+deb13u2", suite: "trixie" },
      { version: "20.10.24+dfsg1-1+deb12u1+b6", suite: "bookworm" },
    ]);
    const needs = unsatisfiedPins(pins, new Map());
    const choice = chooseInstall(needs, offers, geq([]), "hack/engine/packages.json");
    expect(choice.install).toEqual(["skopeo=1.9.3+ds1-1+b10", "curl=7.88.1-10+deb12u16"]);
    expect(choice.vanished).toEqual([
      'docker.io 26.1.5+dfsg1-9+deb13u1+b1 is no longer on the mirror (the mirror offers 26.1.5+dfsg1-9+deb13u2, 20.10.24+dfsg1-1+deb12u1+b6): set its "version" in hack/engine/packages.json to one of those (check with `apt-cache policy docker.io`)',
    ]);
    expect(choice.notes).toEqual(["curl: 7.88.1-10+deb12u16 instead of the pinned 7.88.1-10+deb12u15, which the host's apt sources do not offer"]);
  });

  it("takes an anyVersion package from its own release, never from a suite added for others", () => {
    // A fresh minbase host: bookworm main only (no -security), trixie added for docker.
    const offers = parseMadison(
      [
        "ca-certificates | 20250419+deb13u1 | http://deb.debian.org/debian trixie/main amd64 Packages",
        "ca-certificates | 20230311+deb12u1 | http://deb.debian.org/debian bookworm/main amd64 Packages",
      ].join("\n"),
    );
    const need = { name: "ca-certificates", want: "20250419~deb12u2", suite: "bookworm", anyVersion: true };
    const order: [string, string][] = [
      ["20250419+deb13u1", "20250419~deb12u2"],
      ["20250419+deb13u1", "20230311+deb12u1"],
      ["20250419~deb12u2", "20230311+deb12u1"],
    ];
    const choice = chooseInstall([need], offers, geq(order), "p.json");
    expect(choice.install).toEqual(["ca-certificates=20230311+deb12u1"]);
    expect(choice.notes[0]).toContain("20230311+deb12u1 instead of the pinned 20250419~deb12u2");
    const withSecurity = parseMadison(
      [
        "ca-certificates | 20250419~deb12u3 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages",
        "ca-certificates | 20230311+deb12u1 | http://deb.debian.org/debian bookworm/main amd64 Packages",
      ].join("\n"),
    );
    const newer = chooseInstall([need], withSecurity, geq([["20250419~deb12u3", "20230311+deb12u1"]]), "p.json");
    expect(newer.install).toEqual(["ca-certificates=20250419~deb12u3"]);
  });

  it("parses os-release", () => {
    expect(bookworm).toEqual({ id: "debian", idLike: [], codename: "bookworm", prettyName: "Debian GNU/Linux 12 (bookworm)" });
    expect(noble.idLike).toEqual(["debian"]);
  });
});
