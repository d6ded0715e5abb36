#!/usr/bin/env bash
# Installs what Flywheel needs on this machine: node_modules, the Python venv (Temporal CLI,
# MLflow), the GPU worker's venv (PyTorch), the PostgreSQL server binaries, supervisor, Prometheus with Alertmanager and exporters, and headless Chromium. Safe to rerun: a step whose inputs hash to the
# value in its stamp file is skipped, so the second run takes a second or two.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STAMPS="$ROOT/.flywheel/stamps"
VENV="$ROOT/.venv"
REQUIREMENTS="$ROOT/scripts/requirements.txt"
mkdir -p "$STAMPS"

say() { echo "setup: $*"; }
# Runs a long install in the background and says every 20 s how far it is (the size of the
# folder it fills), so a first setup is never silent for minutes.
with_progress() {
  local dir="$1" t=0 pid rc
  shift
  "$@" &
  pid=$!
  while kill -0 "$pid" 2> /dev/null; do
    sleep 1
    t=$((t + 1))
    if [ $((t % 20)) -eq 0 ] && kill -0 "$pid" 2> /dev/null; then
      say "  … ${t} s, $(du -sm "$dir" 2> /dev/null | cut -f1) MB in $(basename "$(dirname "$dir")")/$(basename "$dir")"
    fi
  done
  wait "$pid" && rc=0 || rc=$?
  return "$rc"
}
die() { echo "setup: error: $*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
hash_of() { sha256sum | cut -c1-64; }
stamp_matches() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
write_stamp() { printf '%s\n' "$2" > "$STAMPS/$1"; }

apt_updated=0
apt_install() {
  is_root || die "cannot install $* without root"
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" > /dev/null
}

# --- Node.js: every @temporalio package needs >= 20.3 ------------------------------------
command -v node > /dev/null || die "node not found: install Node.js >= 20.3"
node_version="$(node -p 'process.versions.node')"
IFS=. read -r node_major node_minor _ <<< "$node_version"
if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 3 ]; }; then
  die "Node.js $node_version is too old: Flywheel needs >= 20.3"
fi
say "node $node_version ok"

# --- node_modules ------------------------------------------------------------------------
# The node major is part of the hash because native addons are built for one ABI.
npm_hash="$({ cat package-lock.json; echo "node $node_major"; } | hash_of)"
if stamp_matches npm "$npm_hash" && [ -d node_modules ]; then
  say "node_modules up to date"
elif [ -f node_modules/.package-lock.json ] && node -e '
    // npm keeps node_modules/.package-lock.json describing what is installed: when it agrees
    // with package-lock.json, adopt the tree instead of wiping it with npm ci.
    const fs = require("fs");
    const want = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages;
    const have = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages;
    for (const [p, h] of Object.entries(have)) if (!want[p] || want[p].version !== h.version) process.exit(1);
    for (const [p, w] of Object.entries(want)) if (p && !w.optional && !w.link && !have[p]) process.exit(1);
  '; then
  say "node_modules matches package-lock.json"
  write_stamp npm "$npm_hash"
else
  say "npm ci (package-lock.json changed or node_modules missing)"
  # onnxruntime-node's install script downloads CUDA libraries from outside the npm registry;
  # skipping it keeps the bundled CPU binding. (Not in .npmrc: npm warns about unknown project
  # config keys on every `npx flywheel`; a plain `npm ci` needs ONNXRUNTIME_NODE_INSTALL=skip too.)
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
  write_stamp npm "$npm_hash"
fi

# --- Python venv: temporal CLI, MLflow server ---------------------------------------------
python=""
for candidate in python3.12 python3.11 python3.10 python3; do
  if command -v "$candidate" > /dev/null &&
    "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2> /dev/null; then
    python="$candidate"
    break
  fi
done
[ -n "$python" ] || { is_root && apt_install python3 python3-venv && python=python3; } ||
  die "python >= 3.10 not found: install python3 and python3-venv"

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  if ! "$python" -m venv "$VENV" 2> /dev/null; then
    rm -rf "$VENV"
    # Debian splits ensurepip out of python3 into python3-venv.
    is_root || die "'$python -m venv' failed: install python3-venv"
    apt_install python3-venv
    "$python" -m venv "$VENV"
  fi
fi
venv_hash="$({ cat "$REQUIREMENTS"; "$VENV/bin/python" --version; } | hash_of)"
if stamp_matches venv "$venv_hash" && [ -x "$VENV/bin/temporal" ] && [ -x "$VENV/bin/mlflow" ]; then
  say "python venv up to date"
else
  say "pip install -r scripts/requirements.txt (first time takes a few minutes)"
  with_progress "$VENV" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  write_stamp venv "$venv_hash"
fi

# --- GPU worker (gpu-worker/): PyTorch pool, its own venv --------------------------------
# The same package runs on the CPU here and on CUDA on a GPU host. Its venv is apart from the
# stack's so torch's CUDA wheels never constrain MLflow's dependencies (and the reverse).
GPU_VENV="$ROOT/gpu-worker/.venv"
GPU_LOCK="$ROOT/gpu-worker/requirements.lock"
if [ ! -x "$GPU_VENV/bin/python" ]; then
  say "creating $GPU_VENV"
  "$python" -m venv "$GPU_VENV"
fi
gpu_hash="$({ cat "$GPU_LOCK" "$ROOT/gpu-worker/requirements-dev.txt" "$ROOT/gpu-worker/pyproject.toml"; "$GPU_VENV/bin/python" --version; } | hash_of)"
if stamp_matches gpu-worker "$gpu_hash" && "$GPU_VENV/bin/python" -c 'import flywheel_gpu_worker, torch' 2> /dev/null; then
  say "gpu-worker venv up to date"
else
  say "pip install gpu-worker (PyTorch; the first time downloads about 3 GB: PyPI carries only the CUDA build for Linux)"
  with_progress "$GPU_VENV" "$GPU_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$GPU_LOCK"
  "$GPU_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT/gpu-worker"
  "$GPU_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/gpu-worker/requirements-dev.txt"
  write_stamp gpu-worker "$gpu_hash"
fi

# --- PostgreSQL server binaries -----------------------------------------------------------
# The same search as scripts/stack/postgres.ts: PATH, then the highest /usr/lib/postgresql/*/bin.
has_server_bins() { [ -x "$1/pg_ctl" ] && [ -x "$1/initdb" ] && [ -x "$1/postgres" ]; }
find_pg_bin() {
  local dir
  local IFS=:
  for dir in $PATH; do
    if [ -n "$dir" ] && has_server_bins "$dir"; then
      dirname "$(readlink -f "$dir/pg_ctl")"
      return 0
    fi
  done
  unset IFS
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -t/ -k5 -n -r); do
    if has_server_bins "$dir"; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

if [ -n "${DATABASE_URL:-}" ]; then
  say "DATABASE_URL is set: no local PostgreSQL needed"
elif pg_bin="$(find_pg_bin)"; then
  say "postgresql binaries in $pg_bin"
elif is_root; then
  apt_install postgresql
  pg_bin="$(find_pg_bin)" || die "postgresql installed but pg_ctl/initdb still not found"
  say "postgresql binaries in $pg_bin"
else
  die "PostgreSQL server binaries (pg_ctl, initdb) not found: install them (Debian: sudo apt-get install postgresql) or set DATABASE_URL"
fi

# initdb and postgres refuse to run as root; the stack runs them as this user instead.
if [ -z "${DATABASE_URL:-}" ] && is_root && ! id postgres > /dev/null 2>&1; then
  say "creating system user postgres"
  useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
fi

# --- supervisor: restarts a part of the local stack that dies (scripts/stack/supervisor.ts) ---
# `flywheel up` runs one supervisord of its own per data folder; the package's system service is
# not used. Without it the stack still runs, detached, and says that nothing restarts a dead part.
if command -v supervisord > /dev/null; then
  say "supervisord present"
elif is_root; then
  apt_install supervisor
else
  say "warning: supervisord not found and not root: install Debian's supervisor package, or dead services stay down"
fi

# --- monitoring: Prometheus (with promtool), Alertmanager, PostgreSQL and node exporters ----
# `flywheel up` runs its own of each under the stack's supervisord (scripts/stack/monitoring.ts),
# bound to loopback; promtool tests the alert rules (config/prometheus/tests). Installed here, the
# packages' own system services would hold the default ports (9090, 9093, 9100, 9187): where
# systemd runs, those this step installed are stopped and disabled (ones already there are left alone).
monitoring_missing=()
for pair in prometheus:prometheus promtool:prometheus prometheus-alertmanager:prometheus-alertmanager \
            prometheus-postgres-exporter:prometheus-postgres-exporter prometheus-node-exporter:prometheus-node-exporter; do
  command -v "${pair%%:*}" > /dev/null || monitoring_missing+=("${pair#*:}")
done
if [ "${#monitoring_missing[@]}" = 0 ]; then
  say "prometheus, alertmanager and exporters present"
elif is_root; then
  mapfile -t monitoring_missing < <(printf '%s\n' "${monitoring_missing[@]}" | sort -u)
  apt_install "${monitoring_missing[@]}"
  if command -v systemctl > /dev/null && [ -d /run/systemd/system ]; then
    for unit in "${monitoring_missing[@]}"; do systemctl disable --now "$unit" > /dev/null 2>&1 || true; done
  fi
else
  say "warning: ${monitoring_missing[*]} not installed and not root: flywheel up runs without them and the alert-rule tests are skipped"
fi

# --- Keycloak (the identity provider of the local stack and of the auth tests) -----------
# The distribution is a zip on Maven Central; `mvn dependency:get` puts it in ~/.m2, where
# scripts/stack/keycloak.ts unpacks it. It needs a JDK >= 21 (polyglot machines have Temurin 25
# beside the default Java 17). Without one, Keycloak is skipped here and its tests say why.
KEYCLOAK_VERSION="26.5.6"
keycloak_zip="$HOME/.m2/repository/org/keycloak/keycloak-quarkus-dist/$KEYCLOAK_VERSION/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
if [ -f "$keycloak_zip" ]; then
  say "keycloak $KEYCLOAK_VERSION present"
elif [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ] || [ -n "${KEYCLOAK_JAVA_HOME:-}" ]; then
  if ! command -v mvn > /dev/null && is_root; then apt_install maven; fi
  if command -v mvn > /dev/null; then
    say "fetching keycloak $KEYCLOAK_VERSION from Maven Central (about 180 MB, once)"
    mvn -q -B dependency:get -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" -Dtransitive=false > /dev/null ||
      say "warning: keycloak could not be fetched; its tests will be skipped"
  fi
else
  say "no JDK >= 21 for keycloak: its tests will be skipped (set KEYCLOAK_JAVA_HOME)"
fi
command -v unzip > /dev/null || { is_root && apt_install unzip; } || true

# --- Temporal's time-skipping test server (the workflow tests, test/workflows/) ------------
# @temporalio/testing's createTimeSkipping() would download a native build from GitHub; the same
# Java server is on Maven Central. Its jar and every dependency are copied into the tools folder,
# beside a wrapper that test/workflows/helpers/time-skipping.ts hands the SDK as an `existing-path`
# executable (the SDK runs it with the port as the only argument). Java 17 is enough.
TEST_SERVER_VERSION="1.31.0"
TEST_SERVER_DIR="$ROOT/.flywheel/tools/temporal-test-server"
test_server_hash="$(echo "io.temporal:temporal-test-server:$TEST_SERVER_VERSION slf4j-nop:1.7.36" | hash_of)"
if stamp_matches temporal-test-server "$test_server_hash" && [ -x "$TEST_SERVER_DIR/temporal-test-server" ] &&
  [ -f "$TEST_SERVER_DIR/lib/temporal-test-server-$TEST_SERVER_VERSION.jar" ]; then
  say "temporal test server $TEST_SERVER_VERSION present"
elif ! command -v java > /dev/null; then
  say "no java: the time-skipping workflow tests will be skipped (install a JDK >= 11)"
else
  if ! command -v mvn > /dev/null && is_root; then apt_install maven; fi
  if ! command -v mvn > /dev/null; then
    say "no mvn: the time-skipping workflow tests will be skipped (install maven)"
  else
    say "fetching temporal-test-server $TEST_SERVER_VERSION and its dependencies from Maven Central (about 35 MB, once)"
    rm -rf "$TEST_SERVER_DIR"
    mkdir -p "$TEST_SERVER_DIR/lib"
    cat > "$TEST_SERVER_DIR/pom.xml" << EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>flywheel.tools</groupId>
  <artifactId>temporal-test-server-classpath</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$TEST_SERVER_VERSION</version>
    </dependency>
    <!-- Binds its SLF4J 1.7 API to nothing: no "Failed to load class StaticLoggerBinder" on every start. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
EOF
    if mvn -q -B -f "$TEST_SERVER_DIR/pom.xml" dependency:copy-dependencies -DoutputDirectory="$TEST_SERVER_DIR/lib" -DincludeScope=runtime > "$TEST_SERVER_DIR/mvn.log" 2>&1; then
      # exec: the SDK stops the server by killing the process it started, which must be the JVM itself.
      cat > "$TEST_SERVER_DIR/temporal-test-server" << 'EOF'
#!/usr/bin/env bash
# Temporal's time-skipping test server (Java, from Maven Central; written by scripts/setup.sh).
# Usage: temporal-test-server PORT [--enable-time-skipping]
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec java -XX:+UseSerialGC -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
EOF
      chmod +x "$TEST_SERVER_DIR/temporal-test-server"
      write_stamp temporal-test-server "$test_server_hash"
      say "temporal test server in $TEST_SERVER_DIR"
    else
      say "warning: temporal-test-server could not be fetched (see $TEST_SERVER_DIR/mvn.log); the workflow tests will be skipped"
    fi
  fi
fi

# --- Helm (the chart's offline checks, test/unit/helm-chart.test.ts) -----------------------
# Built from its Go module (no binary download); Helm v4.3.2 needs Go >= 1.26. Measured: 16.5 min wall
# (4.2 min CPU) at nice 19 on a 2-core machine at load ~15, once: the stamp and the binary skip it afterwards.
HELM_VERSION="v4.3.2"
HELM_DIR="$ROOT/.flywheel/tools/helm"
helm_hash="$(echo "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" | hash_of)"
if stamp_matches helm "$helm_hash" && [ -x "$HELM_DIR/bin/helm" ]; then
  say "helm $HELM_VERSION present"
elif ! command -v go > /dev/null; then
  say "no go: test/unit/helm-chart.test.ts will fail until Helm is built (install Go >= 1.26 and rerun setup)"
else
  say "building helm $HELM_VERSION from its Go module into $HELM_DIR/bin (several minutes, once)"
  mkdir -p "$HELM_DIR/bin"
  if GOTOOLCHAIN=local GOBIN="$HELM_DIR/bin" with_progress "$HELM_DIR" nice -n 19 go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"; then
    write_stamp helm "$helm_hash"
    say "helm in $HELM_DIR/bin"
  else
    say "warning: helm could not be built (Go >= 1.26 needed); test/unit/helm-chart.test.ts will fail until it is"
  fi
fi

# --- nginx (the TLS-terminating gRPC proxy of the mTLS test) -------------------------------
# The Temporal dev server has no TLS; test/integration/temporal-tls.test.ts puts Debian's nginx
# (grpc_pass, ssl_verify_client on) in front of its own dev server, run in the foreground with a
# config of its own in a temporary folder. Missing and not root: that test is skipped and says why.
if [ -x /usr/sbin/nginx ]; then
  say "nginx present"
elif is_root; then
  apt_install nginx-light
  # Only the test's own foreground nginx is used: stop the system service the package may start.
  if [ -d /run/systemd/system ]; then systemctl disable --now nginx > /dev/null 2>&1 || true; fi
else
  say "no nginx: the Temporal mTLS test will be skipped (Debian: sudo apt-get install nginx-light)"
fi

# --- Headless Chromium (the model report's browser test) -----------------------------------
# `flywheel report` writes one self-contained HTML page; test/integration/report.test.ts renders it
# in headless Chromium, the Debian package. Present: nothing to do. Missing and not root: that test
# is skipped and says why; nothing else needs a browser.
if chromium_bin="$(command -v chromium || command -v chromium-browser)"; then
  say "chromium at $chromium_bin"
elif is_root; then
  apt_install chromium
  command -v chromium > /dev/null || die "chromium installed but not on PATH"
  say "chromium at $(command -v chromium)"
else
  say "no chromium: the report's browser test will be skipped (Debian: sudo apt-get install chromium)"
fi

say "done"
