import { describe, expect, it } from "vitest";
import type { BuildRecord } from "../build/attachments.ts";
import { KilnError } from "../errors.ts";
import { catalogUrlProblem, checkBuildRecord, isFileTransport, isTrustedCatalog, revisionProblem } from "./rebuild-record.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const good: BuildRecord = {
  image: "router",
  target: "image",
  platforms: ["linux/amd64", "linux/arm64"],
  buildArgs: { EXAMPLE: "1" },
  revision: { commit: COMMIT, dirty: false, source: "https://git.example/kiln" },
};

/** The one line checkBuildRecord refuses a record with. */
function refusal(record: BuildRecord): string {
  try {
    checkBuildRecord(record, "reg/x@sha256:1");
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    return (e as KilnError).message;
  }
  return "accepted";
}

describe("checkBuildRecord", () => {
  it("accepts what kiln build writes", () => {
    expect(refusal(good)).toBe("accepted");
    expect(refusal({ image: "debian", target: "rootfs", platforms: [] })).toBe("accepted");
  });

  it.each([
    ["an image name with ../", { ...good, image: "../../tmp/x" }, 'records the image "../../tmp/x": not a definition name'],
    ["an image name with /", { ...good, image: "router/../../x" }, "not a definition name"],
    ["an upper-case image", { ...good, image: "Router" }, "not a definition name"],
    ["an image led by -", { ...good, image: "-router" }, "not a definition name"],
    ["a target with a colon", { ...good, target: "image:x" }, 'records the target "image:x": not a target name'],
    ["an unknown platform", { ...good, platforms: ["linux/amd64", "windows/amd64"] }, 'records the platform "windows/amd64"'],
    ["a build arg name with =", { ...good, buildArgs: { "A=B": "1" } }, 'records the build arg "A=B"'],
    ["a short revision", { ...good, revision: { commit: "0123456", dirty: false } }, 'records the revision "0123456": not a full commit id'],
    ["a revision that is an option", { ...good, revision: { commit: "--output=/tmp/x", dirty: false } }, "not a full commit id"],
    ["a branch as revision", { ...good, revision: { commit: "main", dirty: false } }, "not a full commit id"],
    ["a -led catalog URL", { ...good, revision: { commit: COMMIT, dirty: false, source: "--upload-pack=touch /tmp/x" } }, "it starts with -, which git would read as an option"],
    ["a file: catalog URL", { ...good, revision: { commit: COMMIT, dirty: false, source: "file:///tmp/evil" } }, "only https, ssh, git URLs are cloned from what an attachment says"],
    ["a local path", { ...good, revision: { commit: COMMIT, dirty: false, source: "/tmp/evil" } }, "only https, ssh, git URLs"],
    ["git's ext transport", { ...good, revision: { commit: COMMIT, dirty: false, source: "ext::sh -c touch% /tmp/x" } }, "white space"],
    ["an http URL", { ...good, revision: { commit: COMMIT, dirty: false, source: "http://git.example/kiln" } }, "only https, ssh, git URLs"],
  ])("refuses %s", (_, record, message) => {
    const line = refusal(record as BuildRecord);
    expect(line).toMatch(/^the lock attached to reg\/x@sha256:1 records /);
    expect(line).toContain(message);
  });
});

describe("catalogUrlProblem", () => {
  it("takes https, ssh and git URLs from anywhere", () => {
    for (const url of ["https://git.example/kiln", "ssh://git@git.example/kiln.git", "git://git.example/kiln"]) {
      expect(catalogUrlProblem(url, false)).toBeUndefined();
      expect(catalogUrlProblem(url, true)).toBeUndefined();
    }
  });

  it("takes file: URLs, local paths and host:path only from the command line", () => {
    for (const url of ["file:///srv/kiln", "/srv/kiln", "../kiln", "git@git.example:kiln.git"]) {
      expect(catalogUrlProblem(url, true)).toBeUndefined();
      expect(catalogUrlProblem(url, false)).toMatch(/^only https, ssh, git URLs/);
    }
  });

  it("refuses options, white space and other transports even from the command line", () => {
    expect(catalogUrlProblem("-uhello", true)).toBe("it starts with -, which git would read as an option");
    expect(catalogUrlProblem("--upload-pack=x", true)).toBe("it starts with -, which git would read as an option");
    expect(catalogUrlProblem("https://x/a b", true)).toBe("it holds white space or control characters");
    expect(catalogUrlProblem("https://x/a\nb", true)).toBe("it holds white space or control characters");
    expect(catalogUrlProblem("http://git.example/kiln", true)).toMatch(/^the http: transport is not allowed/);
    expect(catalogUrlProblem("", true)).toBe("empty");
    expect(catalogUrlProblem("ssh://-oProxyCommand=touch%20x/kiln", true)).toBe("its host starts with -, which ssh would read as an option");
    expect(catalogUrlProblem("ssh://git@-oProxyCommand=x/kiln", false)).toBe("its host starts with -, which ssh would read as an option");
  });
});

describe("revisionProblem", () => {
  it("takes commit-ish names, never an option", () => {
    expect(revisionProblem(COMMIT)).toBeUndefined();
    expect(revisionProblem("v1.0")).toBeUndefined();
    expect(revisionProblem("--output=/tmp/x")).toMatch(/starts with -/);
    expect(revisionProblem("a b")).toMatch(/white space/);
  });
});

describe("isTrustedCatalog", () => {
  const prefixes = ["https://git.example/kiln", "https://mirror.example/"];
  it("matches whole path segments of a listed prefix", () => {
    expect(isTrustedCatalog("https://git.example/kiln", prefixes)).toBe(true);
    expect(isTrustedCatalog("https://git.example/kiln/catalog", prefixes)).toBe(true);
    expect(isTrustedCatalog("https://mirror.example/any/thing", prefixes)).toBe(true);
  });
  it("does not match a longer name, another host or an empty list", () => {
    expect(isTrustedCatalog("https://git.example/kiln-evil", prefixes)).toBe(false);
    expect(isTrustedCatalog("https://git.example.evil/kiln", prefixes)).toBe(false);
    expect(isTrustedCatalog("https://git.example/kiln", [])).toBe(false);
    expect(isTrustedCatalog("https://git.example/kiln", [""])).toBe(false);
  });
});

describe("isFileTransport", () => {
  it("tells local paths and file: URLs from remote ones", () => {
    expect(isFileTransport("/srv/kiln")).toBe(true);
    expect(isFileTransport("file:///srv/kiln")).toBe(true);
    expect(isFileTransport("./a:b")).toBe(true);
    expect(isFileTransport("git@host:kiln")).toBe(false);
    expect(isFileTransport("https://host/kiln")).toBe(false);
  });
});
