import { describe, expect, it } from "vitest";
import { registryFailure } from "./registry.ts";

const fatal = (msg: string) => `time="2026-12-02T16:24:46Z" level=fatal msg="${msg.replace(/"/g, '\\"')}"\n`;

describe("registryFailure", () => {
  it("says a registry that is down does not answer, instead of skopeo's whole line", () => {
    const stderr = fatal('trying to reuse blob sha256:b3fd at destination: pinging container registry 127.0.0.1:16057: Get "http://127.0.0.1:16057/v2/": dial tcp 127.0.0.1:16057: connect: connection refused');
    expect(registryFailure(stderr, "127.0.0.1:16057")).toBe("the registry 127.0.0.1:16057 does not answer (connection refused)");
  });

  it("names unknown hosts, timeouts, refused credentials and plain HTTP", () => {
    expect(registryFailure(fatal("pinging container registry reg.lan: Get \"https://reg.lan/v2/\": dial tcp: lookup reg.lan: no such host"), "reg.lan")).toBe("the registry reg.lan is not known (DNS: no such host)");
    expect(registryFailure(fatal("pinging container registry reg.lan: Get \"https://reg.lan/v2/\": dial tcp 10.0.0.6:443: i/o timeout"), "reg.lan")).toBe("the registry reg.lan does not answer (timed out)");
    expect(registryFailure(fatal("writing blob: initiating layer upload to /v2/x/blobs/uploads/ in reg.lan: unauthorized: authentication required"), "reg.lan")).toBe("the registry reg.lan refuses the push (authentication required)");
    expect(registryFailure(fatal('pinging container registry reg.lan: Get "https://reg.lan/v2/": http: server gave HTTP response to HTTPS client'), "reg.lan")).toBe("the registry reg.lan speaks plain HTTP: add it to insecureRegistries");
  });

  it("says what a read is refused and that an unknown tag or repository is not there", () => {
    expect(registryFailure(fatal("reading manifest 1 in reg.lan/x: unauthorized: authentication required"), "reg.lan", "access")).toBe("the registry reg.lan refuses access (authentication required)");
    expect(registryFailure(fatal('Error parsing image name "docker://127.0.0.1:5000/x:nope": reading manifest nope in 127.0.0.1:5000/x: manifest unknown: manifest unknown'), "127.0.0.1:5000")).toBe(
      "the registry 127.0.0.1:5000 has no such image (manifest unknown)",
    );
  });

  it("reads oras's last words too", () => {
    const stderr = 'Error: Head "http://127.0.0.1:5999/v2/x/manifests/sha256:ab": dial tcp 127.0.0.1:5999: connect: connection refused\n';
    expect(registryFailure(stderr, "127.0.0.1:5999")).toBe("the registry 127.0.0.1:5999 does not answer (connection refused)");
  });

  it("passes anything else on as skopeo's message", () => {
    expect(registryFailure(fatal("copying image 1/2 from manifest list: manifest invalid"), "r")).toBe("copying image 1/2 from manifest list: manifest invalid");
    expect(registryFailure("", "r")).toBe("skopeo failed");
  });
});

