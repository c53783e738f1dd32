import { defineImage } from "../../src/index.ts";

/**
 * lego's containers stay up between steps; the tools image has no `sleep`: a bash coprocess reading a
 * pipe whose write end bash itself holds waits for ever.
 */
const IDLE = { entrypoint: ["bash", "-c", "coproc read -r; wait"], files: { "/kiln/test": "test" }, start: "after-service" as const };

export default defineImage({
  name: "pki",
  category: "infrastructure",
  description: "Certificate authority with ACME (step-ca 0.19 compiled from Debian's source package), state in /data, configured by environment variables",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    // Debian ships only the library (its rules leave out cmd/): step-ca itself is compiled here from the same
    // source, with the Go libraries it needs as Debian's golang-*-dev packages (the build-dependencies).
    debianSource: { certificates: { package: "golang-github-smallstep-certificates", version: "0.19.0-1", profiles: ["nocheck"], onTopOf: "base-builder", buildDependsFor: "build" } },
  },
  outputs: { names: ["kiln/pki"], tags: ["latest", "0.19.0"] },
  metadata: { title: "kiln pki", licenses: "Apache-2.0", documentation: "images/pki/README.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        ports: [9000],
        volumes: ["/data"],
        healthcheck: true,
        // 15.8 MB amd64, 14.0 MB arm64 compressed (2026-12-07): step-ca is most of it.
        sizeBudgetMB: 20,
        // step-ca 0.19 serves no Prometheus metrics (its only monitoring is a New Relic agent): README.md.
        tests: [
          { name: "step-ca version", command: ["step-ca", "version"], outputContains: ["Smallstep CA/0.19.0"] },
          { name: "refuses a privileged port", command: [], entrypoint: ["bash", "-c", "PKI_PORT=443 exec /boot/entrypoint.sh"], exitCode: 64, outputContains: ["pki: PKI_PORT must be a port from 1024 to 65535"] },
          {
            name: "refuses part of a CA in /certs",
            command: [],
            entrypoint: ["bash", "-c", ": > /tmp/root_ca.crt; PKI_CERTS=/tmp exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["pki: /tmp holds only part of a CA: give root_ca.crt, intermediate_ca.crt and intermediate_ca_key, or none of them"],
          },
        ],
        probes: [{ name: "https", kind: "tcp", port: 9000 }],
        clients: [
          {
            name: "acme with lego",
            // `web` and `outside` are lego's own containers: the CA validates HTTP-01 on port 80 of the
            // name ordered, which each container's alias resolves to on the test network.
            env: { PKI_DNS_NAMES: "service", PKI_ACME_NAMES: "web", PKI_JWK_PASSWORD_FILE: "/run/secrets/pki-jwk-password" },
            files: { "/run/secrets/pki-jwk-password": "test/jwk-password" },
            fixtures: {
              web: IDLE,
              outside: IDLE,
            },
            steps: [
              {
                name: "lego obtains a certificate over HTTP-01",
                in: "web",
                command: ["bash", "/kiln/test/obtain.sh", "web"],
                outputContains: ["[web] acme: Validations succeeded; requesting certificates", "[web] Server responded with a certificate."],
              },
              {
                name: "openssl verify chains it to the root from /roots.pem",
                in: "web",
                command: ["bash", "/kiln/test/verify.sh", "web"],
                outputContains: ["/tmp/lego-web/certificates/web.crt: OK", "DNS:web", "certificate 1: serial="],
              },
              {
                name: "a second order after a restart on the same /data",
                restart: true,
                in: "web",
                command: ["bash", "/kiln/test/obtain.sh", "web"],
                outputContains: ["[web] Server responded with a certificate."],
              },
              {
                name: "the second certificate chains to the same root",
                in: "web",
                command: ["bash", "/kiln/test/verify.sh", "web"],
                outputContains: ["/tmp/lego-web/certificates/web.crt: OK", "certificate 2: serial="],
              },
              {
                name: "the first certificate's serial is in the database",
                in: "web",
                command: ["bash", "/kiln/test/revoke-first.sh", "web"],
                outputContains: ["revoking serial=", "Certificate was revoked."],
              },
              {
                name: "an order signed with an unknown account key is refused",
                in: "web",
                command: ["bash", "/kiln/test/forged-key.sh", "web"],
                exitCode: 1,
                outputContains: ["account key replaced", "/new-order :: urn:ietf:params:acme:error:malformed"],
                outputExcludes: ["Server responded with a certificate"],
              },
              {
                name: "the JWK provisioner is listed",
                in: "web",
                command: ["curl", "-fsS", "--cacert", "/tmp/roots.pem", "https://service:9000/provisioners"],
                outputContains: ['"type":"ACME","name":"acme"', '"type":"JWK","name":"admin"', '"encryptedKey":"'],
              },
              // Last: a CA without the policy (test/fixtures/pki-open-policy) fails this step alone.
              {
                name: "an order for a name outside PKI_ACME_NAMES is refused",
                in: "outside",
                command: ["bash", "/kiln/test/obtain.sh", "outside"],
                exitCode: 1,
                outputContains: ["[outside] acme: Validations succeeded; requesting certificates", "/finalize :: urn:ietf:params:acme:error:serverInternal"],
                outputExcludes: ["Server responded with a certificate"],
              },
            ],
          },
        ],
      },
    },
  },
});
