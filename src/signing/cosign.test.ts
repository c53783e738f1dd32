import { describe, expect, it } from "vitest";
import { checkVerifiedPayloads, cosignEnv, passwordInput, signArgs, signFailure, verifyArgs, verifyFailure } from "./cosign.ts";

const D = `sha256:${"cd".repeat(32)}`;
const OTHER = `sha256:${"ef".repeat(32)}`;
const REF = `127.0.0.1:5000/kiln/router@${D}`;
/** cosign's stderr as it prints it: the error twice, after a warning. */
const cosignSays = (msg: string) => `WARNING: Skipping tlog verification is an insecure practice\nError: ${msg}\nerror during command execution: ${msg}\n`;

describe("command lines", () => {
  it("signs and verifies a digest with the transparency log off, HTTP only for insecure registries", () => {
    expect(signArgs("/k/cosign.key", REF, true)).toEqual(["sign", "--key", "/k/cosign.key", "--tlog-upload=false", "--yes", "--allow-insecure-registry", "--allow-http-registry", REF]);
    expect(signArgs("awskms:///alias/kiln", REF, false)).toEqual(["sign", "--key", "awskms:///alias/kiln", "--tlog-upload=false", "--yes", REF]);
    expect(verifyArgs("/k/cosign.pub", REF, false)).toEqual(["verify", "--key", "/k/cosign.pub", "--insecure-ignore-tlog=true", "--output", "json", REF]);
    expect(verifyArgs("/k/cosign.pub", REF, true)).toContain("--allow-http-registry");
  });

  it("never passes a password on the command line or in the environment", () => {
    const env = cosignEnv({ PATH: "/usr/bin", COSIGN_PASSWORD: "s3cret", COSIGN_REPOSITORY: "elsewhere/x" }, "/tmp/kiln-sign-x");
    expect(env).toEqual({ PATH: "/usr/bin", DOCKER_CONFIG: "/tmp/kiln-sign-x" });
    expect(cosignEnv({ HOME: "/root" })).toEqual({ HOME: "/root" });
    expect(JSON.stringify(signArgs("/k/cosign.key", REF, true))).not.toContain("pass");
  });

  it("hands the password file's text over without its trailing line break", () => {
    expect(passwordInput(Buffer.from("pw1\n")).toString()).toBe("pw1");
    expect(passwordInput(Buffer.from("pw1\r\n")).toString()).toBe("pw1");
    expect(passwordInput(Buffer.from("pw 1")).toString()).toBe("pw 1");
    expect(passwordInput(Buffer.from("pw1\n\n")).toString()).toBe("pw1\n");
    expect(passwordInput(Buffer.alloc(0)).length).toBe(0);
  });
});

describe("what cosign's failures mean", () => {
  it("tells a missing signature, another key or an altered one, and a signature for another digest apart", () => {
    expect(verifyFailure(cosignSays("no signatures found"), "r")).toBe("no signature is stored for this digest");
    expect(verifyFailure(cosignSays("no matching signatures: invalid signature when validating ASN.1 encoded signature"), "r")).toBe(
      "no stored signature verifies with this key (signed with another key, or altered)",
    );
    expect(verifyFailure(cosignSays("no matching signatures: crypto/ecdsa: verification error"), "r")).toMatch(/^no stored signature verifies/);
    expect(verifyFailure(cosignSays(`no matching signatures: invalid or missing digest in claim: ${OTHER}`), "r")).toBe(`the stored signature is for another digest (${OTHER})`);
  });

  it("names registry trouble and key trouble", () => {
    expect(verifyFailure(cosignSays('GET http://reg.lan/v2/: dial tcp 10.0.0.6:80: connect: connection refused'), "reg.lan")).toBe("the registry reg.lan does not answer (connection refused)");
    expect(signFailure(cosignSays("signing [x]: getting signer: reading key: decrypt: encrypted: decryption failed"), "r")).toMatch(/^cannot decrypt the key with the password from signing.passwordFile/);
    expect(signFailure(cosignSays("signing [x]: PUT http://reg.lan/v2/x/manifests/sha256-1.sig: UNAUTHORIZED: authentication required"), "reg.lan")).toBe(
      "the registry reg.lan refuses the signature upload (authentication required)",
    );
    expect(verifyFailure(cosignSays("loading public key: invalid pem block"), "r")).toBe("cannot read the public key (loading public key: invalid pem block)");
    expect(verifyFailure("", "r")).toBe("cosign failed");
  });
});

describe("checkVerifiedPayloads", () => {
  const payload = (digest: string) => ({ critical: { identity: { "docker-reference": "r/x" }, image: { "docker-manifest-digest": digest }, type: "cosign container image signature" }, optional: null });

  it("counts the verified signatures when each names exactly the digest", () => {
    expect(checkVerifiedPayloads(JSON.stringify([payload(D), payload(D)]) + "\n", D)).toEqual({ count: 2 });
  });

  it("refuses a payload for another digest, and a success without payloads", () => {
    expect(checkVerifiedPayloads(JSON.stringify([payload(D), payload(OTHER)]), D)).toEqual({ problem: `a verified signature names ${OTHER}, not this digest` });
    expect(checkVerifiedPayloads("[]", D)).toHaveProperty("problem");
    expect(checkVerifiedPayloads("", D)).toHaveProperty("problem");
  });
});
