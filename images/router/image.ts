import { defineImage } from "../../src/index.ts";

/** The certificate the router presents for NAME (its subject alternative names), from the tools image's openssl. */
const certificateFor = (name: string) => ["bash", "-c", `openssl s_client -connect service:8443 -servername ${name} </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName`];
/** A handshake for NAME that must get no certificate: the router answers with an alert and openssl exits 1. */
const noCertificateFor = (name: string) => ({ command: ["openssl", "s_client", "-connect", "service:8443", "-servername", name], exitCode: 1, outputContains: ["no peer certificate available", "alert internal error"] });
/** A request to the * route under NAME over HTTPS (the internal CA is not the client's: -k; the names are checked above). */
const httpsGet = (name: string) => ["curl", "-sSk", "--connect-to", `${name}:8443:service:8443`, `https://${name}:8443/`];
const ANY_NAME = { ROUTER_TLS: "internal", ROUTER_ROUTES: "*=respond:the * route" };

export default defineImage({
  name: "router",
  category: "infrastructure",
  description: "HTTP router and reverse proxy (Caddy 2.6 from Debian), configured by environment variables",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    // Caddy's Go modules cannot be fetched here: the router is assembled from Debian's binary package.
    // Locked on top of base-runtime: the lock holds just what the router adds (deb-install unpacks it).
    debian: { suite: "bookworm", packages: ["caddy", "media-types"], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/router"], tags: ["latest", "2.6-{snapshotDate}"] },
  metadata: { title: "kiln router", licenses: "Apache-2.0", documentation: "docs/images.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        // 8443 only listens with ROUTER_TLS=internal.
        ports: [8080, 9180],
        volumes: ["/data"],
        env: { ROUTER_ROUTES: "*=respond:hello from kiln router" },
        healthcheck: true,
        metrics: { port: 9180, path: "/metrics" },
        sizeBudgetMB: 25,
        tests: [
          { name: "caddy version", command: ["caddy", "version"], outputContains: ["2.6."] },
          { name: "healthcheck usage", command: ["healthcheck", "--help"], outputContains: ["usage: healthcheck PORT"] },
          {
            name: "a * route under internal TLS without names or an ask endpoint is refused",
            command: [],
            entrypoint: ["bash", "-c", "ROUTER_TLS=internal ROUTER_ROUTES='*=respond:x' exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["router: route '*=respond:x': ROUTER_TLS=internal with a * route needs ROUTER_TLS_NAMES (the names it answers over HTTPS) or ROUTER_TLS_ASK (a URL that approves each name before a certificate is made)"],
          },
        ],
        probes: [
          { name: "routes", kind: "http", port: 8080, path: "/", status: 200, bodyContains: ["hello from kiln router"] },
          { name: "health", kind: "http", port: 9180, path: "/health", status: 200, bodyContains: ["ok"] },
          { name: "metrics", kind: "metrics", port: 9180, path: "/metrics", status: 200, bodyContains: ["go_goroutines"] },
        ],
        // Certificates for a * route only for the names the operator gave, or approved by their endpoint (README.md "Security").
        clients: [
          {
            name: "TLS for listed names",
            env: { ...ANY_NAME, ROUTER_TLS_NAMES: "named.home.arpa" },
            steps: [
              { name: "a listed name gets a certificate", command: certificateFor("named.home.arpa"), outputContains: ["DNS:named.home.arpa"] },
              { name: "the * route answers it", command: httpsGet("named.home.arpa"), outputContains: ["the * route"] },
              { name: "a name nobody listed gets no certificate", ...noCertificateFor("other.home.arpa") },
            ],
          },
          {
            name: "TLS on demand with an ask endpoint",
            env: { ...ANY_NAME, ROUTER_TLS_ASK: "http://ask:9000/ask" },
            fixtures: {
              // Approves asked.home.arpa alone (test/ask.Caddyfile), as an operator's endpoint would.
              ask: { image: "router:image", env: { ROUTER_CONFIG: "/config/Caddyfile" }, files: { "/config/Caddyfile": "test/ask.Caddyfile" }, ready: { port: 9000, timeoutSeconds: 60 } },
            },
            steps: [
              { name: "an approved name gets a certificate", command: certificateFor("asked.home.arpa"), outputContains: ["DNS:asked.home.arpa"] },
              { name: "the * route answers it", command: httpsGet("asked.home.arpa"), outputContains: ["the * route"] },
              { name: "a name the endpoint refuses gets no certificate", ...noCertificateFor("other.home.arpa") },
            ],
          },
        ],
      },
    },
  },
});
