import { defineImage } from "../../src/index.ts";

/** kdig asking the service for NAME's address, with the DNSSEC OK bit. */
const dig = (port: number, name: string, ...flags: string[]) => ["kdig", "@service", "-p", String(port), "+dnssec", ...flags, name, "A"];

export default defineImage({
  name: "dns",
  category: "infrastructure",
  description: "Validating DNS resolver (Knot Resolver 5.6 from Debian): recursive or forwarding, DNS over TLS, Prometheus metrics",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    // CoreDNS is not packaged in Debian and its Go modules cannot be fetched here: Knot Resolver is.
    // One lock for both targets: the resolver, and Knot DNS (the authoritative server its proofs run against).
    debian: { suite: "bookworm", packages: ["knot-resolver", "knot-resolver-module-http", "knot", "knot-dnssecutils"], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/dns"], tags: ["latest", "5.6-{snapshotDate}"] },
  metadata: { title: "kiln dns", licenses: "GPL-3.0-or-later", documentation: "images/dns/README.md" },
  defaultTarget: "image",
  targets: {
    image: {
      stage: "image",
      runtime: {
        user: "2000",
        // 8853 (DNS over TLS) listens only with a certificate in /certs: the proof below covers it.
        ports: [5353, 8453],
        healthcheck: true,
        metrics: { port: 8453, path: "/metrics" },
        sizeBudgetMB: 20,
        tests: [
          { name: "kresd version", command: ["kresd", "--version"], outputContains: ["Knot Resolver, version 5.6."] },
          {
            name: "bad setting refused",
            command: ["bash", "-c", "DNS_FORWARD='10.0.0.1@99999' exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["dns: DNS_FORWARD (10.0.0.1@99999) must be a port number (1-65535), not '99999'"],
          },
          {
            name: "cache outside the tmpfs needs a volume",
            command: ["bash", "-c", "DNS_CACHE_DIR=/data/cache exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["dns: DNS_CACHE_DIR=/data/cache: /data is not writable (mount a volume there, or keep the cache in /tmp)"],
          },
        ],
        probes: [
          { name: "health", kind: "http", port: 8453, path: "/health", status: 200, bodyContains: ["ok"] },
          { name: "metrics", kind: "metrics", port: 8453, path: "/metrics", status: 200, bodyContains: ["answer_total"] },
        ],
        clients: [
          {
            name: "dnssec",
            // Forwarding to a real authoritative server (knotd) that serves kiln.test, signed when it
            // starts with the test key; the resolver trusts that key's DS instead of the root's.
            env: { DNS_FORWARD: "authority@5300", DNS_TRUST_ANCHORS: "/config/kiln.test.ds" },
            files: { "/config/kiln.test.ds": "test/kiln.test.ds", "/certs": "test/certs" },
            fixtures: {
              authority: {
                image: "dns:authority",
                entrypoint: ["bash", "/kiln/test/authority.sh"],
                files: { "/kiln/test": "test" },
                ready: { command: ["knotc", "--socket", "/tmp/knot.sock", "zone-read", "kiln.test", "signed", "A"], timeoutSeconds: 60 },
              },
            },
            steps: [
              { name: "signed name resolves with AD", command: dig(5353, "signed.kiln.test"), outputContains: ["status: NOERROR", " ad;", "192.0.2.10"] },
              {
                name: "broken signature gives SERVFAIL",
                command: dig(5353, "broken.kiln.test"),
                outputContains: ["status: SERVFAIL", "EDE: 6 (DNSSEC Bogus)"],
                outputExcludes: ["192.0.2.99"],
              },
              // The same name without validation (checking disabled): the data is there, so the SERVFAIL above is DNSSEC's.
              { name: "broken name answers with checking disabled", command: dig(5353, "broken.kiln.test", "+cd"), outputContains: ["status: NOERROR", "192.0.2.99"] },
              {
                name: "DNS over TLS answers",
                command: dig(8853, "signed.kiln.test", "+tls-ca=/kiln/test/certs/ca.crt", "+tls-hostname=service"),
                mount: ["test"],
                outputContains: ["TLS session (TLS1.3)", "status: NOERROR", " ad;", "192.0.2.10"],
              },
              { name: "answer counters grow", command: ["bash", "/kiln/test/answers-grow.sh"], mount: ["test"], outputContains: ["answer counters grew"] },
            ],
          },
        ],
      },
    },
    authority: {
      stage: "authority",
      description: "Knot DNS 3.2 (knotd) serving the zone files of /config/zones as written: the resolver's test fixture",
      outputs: { names: ["kiln/dns-authority"], tags: ["latest", "3.2-{snapshotDate}"] },
      runtime: {
        user: "2000",
        ports: [5300],
        healthcheck: true,
        sizeBudgetMB: 12,
        tests: [{ name: "knotd version", command: ["knotd", "--version"], outputContains: ["Knot DNS), version 3.2."] }],
      },
    },
  },
});
