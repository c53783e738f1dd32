import { defineImage } from "../../src/index.ts";

/** The proofs' root password (test/root-password: a fixture credential, not a secret). */
const PASSWORD = { MYSQL_PWD: "mariadb-proof-password" };
const PASSWORD_FILE = { "/run/secrets/mariadb-root-password": "test/root-password" };
/** The mariadb client as root over TCP: batch output without column names. */
const mariadb = (sql: string, ...opts: string[]) => ["mariadb", "--host=service", "--user=root", "--connect-timeout=10", "--batch", "--skip-column-names", ...opts, "--execute", sql];
/** Root may log in over TCP from other hosts only where MARIADB_ROOT_HOST says (README.md "Security"). */
const ROOT_ANYWHERE = { MARIADB_ROOT_HOST: "%" };
const SELECT = "SELECT GROUP_CONCAT(id, '=', name ORDER BY id) FROM proof.proof";
const ROWS = "1=alpha,2=beta,3=gamma";

export default defineImage({
  name: "mariadb",
  category: "experimental",
  description: "MariaDB 10.11 server (Debian's mariadb-server-core) as uid 2000: initialises /data on first start, password from a secret file, optional TLS",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    debian: { suite: "bookworm", packages: ["mariadb-server-core", "bash-builtins", "usr-is-merged"], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/mariadb"], tags: ["latest", "10.11-{snapshotDate}"] },
  metadata: { title: "kiln mariadb", licenses: "GPL-2.0-only", documentation: "images/mariadb/README.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        ports: [3306],
        volumes: ["/data"],
        healthcheck: true,
        // MariaDB has no Prometheus endpoint of its own (README.md "Metrics").
        sizeBudgetMB: 40,
        tests: [
          { name: "mariadbd version", command: ["mariadbd", "--version"], outputContains: ["Ver 10.11.", "MariaDB"] },
          {
            name: "a password file named but missing: one line, exit 64",
            command: [],
            entrypoint: ["bash", "-c", "MARIADB_ROOT_PASSWORD_FILE=/run/secrets/pw exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["mariadb: MARIADB_ROOT_PASSWORD_FILE=/run/secrets/pw is not a readable file: the first start needs root's password"],
          },
          {
            name: "a privileged port is refused",
            command: [],
            entrypoint: ["bash", "-c", "MARIADB_PORT=330 exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["mariadb: MARIADB_PORT must be above 1023 (the server runs without privileges), not '330'"],
          },
          {
            name: "a buffer pool size without a unit is refused",
            command: [],
            entrypoint: ["bash", "-c", "MARIADB_BUFFER_POOL_SIZE=134217728 exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["mariadb: MARIADB_BUFFER_POOL_SIZE must be a size in M or G (e.g. 128M, 1G), not '134217728'"],
          },
          {
            name: "a root host that is not an address pattern is refused",
            command: [],
            entrypoint: ["bash", "-c", "MARIADB_ROOT_HOST=\"%' OR 1\" exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["mariadb: MARIADB_ROOT_HOST must be an address pattern (%, 10.0.0.%, 10.0.0.0/255.255.255.0, 192.168.1.5), not '%' OR 1'"],
          },
          {
            name: "TLS without a certificate is refused",
            command: [],
            entrypoint: ["bash", "-c", "MARIADB_TLS=required exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["mariadb: MARIADB_TLS=required needs /certs/tls.crt"],
          },
        ],
        clients: [
          {
            // No MARIADB_ROOT_HOST: root's password works from inside the container only.
            name: "root from this container only",
            files: PASSWORD_FILE,
            steps: [
              { name: "the log says where root may log in from", serviceLog: true, outputContains: ["mariadb: root may log in from this container only (the socket, 127.0.0.1, ::1)"] },
              {
                name: "root with the right password from another container is refused",
                env: PASSWORD,
                command: mariadb("SELECT 'logged in'"),
                exitCode: 1,
                // The server's ER_HOST_NOT_PRIVILEGED, before any password is checked (a client that asks for TLS
                // first reports it inside its own handshake error).
                outputContains: ["1130", "Host '", "' is not allowed to connect to this MariaDB server"],
                outputExcludes: ["logged in"],
              },
            ],
          },
          {
            name: "sql",
            env: { MARIADB_DATABASE: "proof", ...ROOT_ANYWHERE },
            files: PASSWORD_FILE,
            steps: [
              { name: "the log says root may log in from MARIADB_ROOT_HOST", serviceLog: true, outputContains: ["mariadb: root may log in from this container and from '%' (MARIADB_ROOT_HOST)"] },
              {
                name: "create and insert",
                env: PASSWORD,
                command: mariadb("CREATE TABLE proof.proof (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL); INSERT INTO proof.proof VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma'); SELECT CONCAT('inserted ', ROW_COUNT())"),
                outputContains: ["inserted 3"],
              },
              { name: "select", env: PASSWORD, command: mariadb(SELECT), outputContains: [ROWS] },
              {
                name: "a wrong password is refused",
                env: { MYSQL_PWD: "not-the-password" },
                command: mariadb(SELECT),
                exitCode: 1,
                outputContains: ["ERROR 1045 (28000): Access denied for user 'root'@"],
                outputExcludes: [ROWS],
              },
              {
                name: "an unknown user is refused",
                env: PASSWORD,
                command: ["mariadb", "--host=service", "--user=mallory", "--connect-timeout=10", "--execute", SELECT],
                exitCode: 1,
                outputContains: ["ERROR 1045 (28000): Access denied for user 'mallory'@"],
              },
              { name: "the databases are on /data, owned by uid 2000", volumes: ["/data"], command: ["bash", "-c", "[ -O /data/mariadb/ibdata1 ] && [ -O /data/mariadb/proof/proof.ibd ] && echo 'owned by 2000'"], outputContains: ["owned by 2000"] },
              { name: "after a restart on the same /data the rows are there", restart: true, env: PASSWORD, command: mariadb(SELECT), outputContains: [ROWS] },
              {
                // docker stop sent SIGTERM: the new server's log shows no crash recovery.
                name: "SIGTERM stopped it cleanly, no recovery on the next start",
                serviceLog: true,
                outputContains: ["ready for connections"],
                outputExcludes: ["crash recovery", "Starting recovery", "starting recovery", "was not closed properly"],
              },
            ],
          },
          {
            name: "tls required",
            env: { MARIADB_TLS: "required", ...ROOT_ANYWHERE },
            files: { ...PASSWORD_FILE, "/certs": "test/tls" },
            steps: [
              {
                name: "a verified TLS session",
                env: PASSWORD,
                mount: ["test"],
                command: mariadb("SHOW SESSION STATUS LIKE 'Ssl_version'", "--ssl-verify-server-cert", "--ssl-ca=/kiln/test/ca/ca.crt"),
                outputContains: ["Ssl_version\tTLSv1.3"],
              },
              {
                // The right password (the step above logged in with it over TLS): refused without TLS.
                // MariaDB 10.11 answers a plain login under require_secure_transport with "Access denied".
                name: "a plain TCP login is refused",
                env: PASSWORD,
                command: mariadb("SELECT 1", "--skip-ssl"),
                exitCode: 1,
                outputContains: ["ERROR 1045 (28000): Access denied for user 'root'@"],
              },
              {
                name: "a client without the CA refuses the certificate",
                env: PASSWORD,
                command: mariadb("SELECT 1", "--ssl-verify-server-cert", "--ssl-ca=/etc/ssl/certs/ca-certificates.crt"),
                exitCode: 1,
                outputContains: ["ERROR 2026 (HY000): TLS/SSL error: unable to get local issuer certificate"],
              },
            ],
          },
        ],
      },
    },
  },
});
