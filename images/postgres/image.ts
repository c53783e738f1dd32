import { defineImage } from "../../src/index.ts";

/** The proofs' superuser password (test/password: a fixture credential, not a secret). */
const PASSWORD = { PGPASSWORD: "postgres-proof-password", PGCONNECT_TIMEOUT: "10" };
const PASSWORD_FILE = { "/run/secrets/postgres-password": "test/password" };
/** psql as the superuser over TCP, stopping at the first error, unaligned output. */
const psql = (sql: string, conn = "host=service user=postgres dbname=proof") => ["psql", "-v", "ON_ERROR_STOP=1", "-At", conn, "-c", sql];
const SELECT = "SELECT string_agg(id || '=' || name, ',' ORDER BY id) FROM proof";
const ROWS = "1=alpha,2=beta,3=gamma";

export default defineImage({
  name: "postgres",
  category: "experimental",
  description: "PostgreSQL 15 server (Debian's postgresql-15) as uid 2000: initialises /data on first start, password from a secret file, optional TLS",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    debian: { suite: "bookworm", packages: ["postgresql-15", "bash-builtins", "usr-is-merged"], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/postgres"], tags: ["latest", "15-{snapshotDate}"] },
  metadata: { title: "kiln postgres", licenses: "PostgreSQL", documentation: "images/postgres/README.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        ports: [5432],
        volumes: ["/data"],
        healthcheck: true,
        // PostgreSQL has no Prometheus endpoint of its own (README.md "Metrics").
        sizeBudgetMB: 40,
        tests: [
          { name: "postgres version", command: ["postgres", "--version"], outputContains: ["postgres (PostgreSQL) 15."] },
          { name: "psql runs", command: ["psql", "--version"], outputContains: ["psql (PostgreSQL) 15."] },
          {
            name: "a password file named but missing: one line, exit 64",
            command: [],
            entrypoint: ["bash", "-c", "POSTGRES_PASSWORD_FILE=/run/secrets/pw exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["postgres: POSTGRES_PASSWORD_FILE=/run/secrets/pw is not a readable file: the first start needs the superuser's password"],
          },
          {
            name: "a privileged port is refused",
            command: [],
            entrypoint: ["bash", "-c", "POSTGRES_PORT=543 exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["postgres: POSTGRES_PORT must be above 1023 (the server runs without privileges), not '543'"],
          },
          {
            name: "TLS without a certificate is refused",
            command: [],
            entrypoint: ["bash", "-c", "POSTGRES_TLS=on exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["postgres: POSTGRES_TLS=on needs /certs/tls.crt"],
          },
        ],
        clients: [
          {
            name: "sql",
            env: { POSTGRES_DB: "proof" },
            files: PASSWORD_FILE,
            steps: [
              {
                name: "create and insert",
                env: PASSWORD,
                command: psql("CREATE TABLE proof (id int PRIMARY KEY, name text NOT NULL); INSERT INTO proof VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma')"),
                outputContains: ["INSERT 0 3"],
              },
              { name: "select", env: PASSWORD, command: psql(SELECT), outputContains: [ROWS] },
              {
                name: "a wrong password is refused",
                env: { ...PASSWORD, PGPASSWORD: "not-the-password" },
                command: psql(SELECT),
                exitCode: 2,
                outputContains: ['password authentication failed for user "postgres"'],
                outputExcludes: [ROWS],
              },
              {
                name: "an unknown role is refused",
                env: PASSWORD,
                command: psql(SELECT, "host=service user=mallory dbname=proof"),
                exitCode: 2,
                outputContains: ['password authentication failed for user "mallory"'],
              },
              { name: "the cluster is on /data, owned by uid 2000", volumes: ["/data"], command: ["bash", "-c", "[ -O /data/postgresql-15/PG_VERSION ] && echo \"owned by 2000: $(< /data/postgresql-15/PG_VERSION)\""], outputContains: ["owned by 2000: 15"] },
              { name: "after a restart on the same /data the rows are there", restart: true, env: PASSWORD, command: psql(SELECT), outputContains: [ROWS] },
              {
                // docker stop sent SIGTERM: the new server's log (the entrypoint's pg_controldata line, then PostgreSQL's own) shows a clean start.
                name: "SIGTERM stopped it cleanly, no recovery on the next start",
                serviceLog: true,
                outputContains: ["was shut down cleanly (pg_controldata: shut down): no recovery needed", "database system was shut down at", "database system is ready to accept connections"],
                outputExcludes: ["not shut down cleanly", "automatic recovery in progress", "was interrupted"],
              },
            ],
          },
          {
            name: "tls required",
            env: { POSTGRES_TLS: "required" },
            files: { ...PASSWORD_FILE, "/certs": "test/tls" },
            steps: [
              {
                name: "a verified TLS session",
                env: PASSWORD,
                mount: ["test"],
                command: psql("SELECT 'tls ' || version || ' ' || ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", "host=service user=postgres dbname=postgres sslmode=verify-full sslrootcert=/kiln/test/ca/ca.crt"),
                outputContains: ["tls TLSv1.3 t"],
              },
              {
                name: "a plain TCP login is refused",
                env: PASSWORD,
                command: psql("SELECT 1", "host=service user=postgres dbname=postgres sslmode=disable"),
                exitCode: 2,
                outputContains: ["pg_hba.conf rejects connection for host", 'user "postgres", database "postgres", no encryption'],
              },
              {
                name: "a client without the CA refuses the certificate",
                env: PASSWORD,
                command: psql("SELECT 1", "host=service user=postgres dbname=postgres sslmode=verify-full sslrootcert=/etc/ssl/certs/ca-certificates.crt"),
                exitCode: 2,
                outputContains: ["certificate verify failed"],
              },
            ],
          },
        ],
      },
    },
  },
});
