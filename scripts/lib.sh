# Shared by scripts/start and scripts/test: installs what is missing, quickly
# when nothing is. Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Build artifacts live outside the clone so that fresh clones reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/parley/target}"
CARGO_LEPTOS_VERSION=0.3.10
SCHEMATHESIS_VERSION=4.32.5
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0

say() { printf '\033[1m==> [%s] %s\033[0m\n' "$(date +%T)" "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

# What the release build needs beyond cargo: the WebAssembly target and
# brotli (wasm-opt comes with the npm packages, see ensure_npm_packages; the
# wasm-bindgen CLI is compiled beside the app, see build_site).
# cargo-leptos is not needed.
ensure_build_tools() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! command -v brotli >/dev/null; then say "installing brotli"; apt_install brotli; fi
}

# The wasm-bindgen CLI whose version is the wasm-bindgen in Cargo.lock;
# nothing when it is installed.
ensure_wasm_bindgen() {
  install_wasm_bindgen_tool wasm-bindgen "about 2 minutes of CPU, seconds after the test runner"
}

# wasm-bindgen's test runner, of the wasm-bindgen in Cargo.lock, and
# ChromeDriver: what runs WebAssembly tests (scripts/test) and benchmarks
# (scripts/bench) in headless Chromium; nothing when they are installed.
ensure_wasm_test_runner() {
  ensure_chromium
  if ! command -v chromedriver >/dev/null; then say "installing chromium-driver"; apt_install chromium-driver; fi
  install_wasm_bindgen_tool wasm-bindgen-test-runner "about 3 minutes of CPU, less after wasm-bindgen"
}

# Compiles program $1 of wasm-bindgen-cli at the version of the wasm-bindgen
# in Cargo.lock, unless it is installed. Both programs are compiled in one
# folder of the build cache, so the second reuses what the first compiled.
# A tool run once per build needs little optimisation: opt-level 1 without
# LTO compiles in about half the time, and runs as fast here.
install_wasm_bindgen_tool() {
  local want
  want="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' "$ROOT/Cargo.lock")"
  if [ "$("$1" --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    say "compiling $1 $want (once; $2)"
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false \
      CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0 \
      cargo install --quiet wasm-bindgen-cli --version "$want" --bin "$1" --target-dir "$CARGO_TARGET_DIR/cli"
  fi
}

# cargo-leptos, for development only (`cargo leptos watch` rebuilds and
# reloads on change); scripts/start and scripts/test do not use it.
ensure_cargo_leptos() {
  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 18 minutes once on two cores)"
    env -u CARGO_TARGET_DIR cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
}

# schemathesis and openapi-spec-validator check the API against its OpenAPI
# document (scripts/api-contract), in a virtual environment of their own.
API_TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/parley/api-tools"
ensure_api_tools() {
  local stamp="$API_TOOLS/.installed" want="schemathesis==$SCHEMATHESIS_VERSION openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing $want (takes about a minute once)"
    python3 -m venv "$API_TOOLS" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$API_TOOLS"; }
    # shellcheck disable=SC2086
    "$API_TOOLS/bin/pip" install --quiet --disable-pip-version-check $want
    echo "$want" > "$stamp"
  fi
  export PATH="$API_TOOLS/bin:$PATH"
}

# The advisory database: PARLEY_ADVISORY_DB, else the offline copy beside the
# project (there is no network to fetch it from).
advisory_db() {
  local db
  for db in "${PARLEY_ADVISORY_DB:-}" "$ROOT/../shared/advisory-db" /work/shared/advisory-db; do
    if [ -n "$db" ] && [ -d "$db/crates" ]; then (cd "$db" && pwd); return 0; fi
  done
  echo "No RustSec advisory database found: set PARLEY_ADVISORY_DB to a copy of it." >&2
  return 1
}

ensure_npm_packages() {
  if ! command -v npm >/dev/null; then say "installing Node.js"; apt_install nodejs npm; fi
  local stamp="$ROOT/end2end/node_modules/.parley-installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/end2end/package-lock.json" -nt "$stamp" ]; then
    say "installing npm packages (Playwright, binaryen)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
  # wasm-opt for release builds comes from npm's binaryen (Debian's is too old).
  export PATH="$ROOT/end2end/node_modules/.bin:$PATH"
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then say "installing Chromium"; apt_install chromium; fi
}

# ffprobe checks that call recordings are media files players can read.
ensure_ffmpeg() {
  if ! command -v ffprobe >/dev/null; then say "installing ffmpeg (ffprobe)"; apt_install ffmpeg; fi
}

# Redis between the nodes of a local cluster (scripts/cluster) and for the cluster tests.
ensure_redis() {
  if ! command -v redis-server >/dev/null; then say "installing Redis"; apt_install redis-server; fi
  if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    say "starting Redis on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  fi
}

# Matrix Synapse, run beside Parley by the sends and fan-out benchmarks:
# PARLEY_BENCH_SYNAPSE names the Python that runs it, installed here once.
SYNAPSE_VERSION=1.163.2
ensure_synapse() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/parley/synapse/venv"
  if [ -z "${PARLEY_BENCH_SYNAPSE:-}" ]; then
    if ! "$venv/bin/python" -c "import synapse, psycopg2, sys; sys.exit(synapse.__version__ != '$SYNAPSE_VERSION')" 2>/dev/null; then
      say "installing Matrix Synapse $SYNAPSE_VERSION for comparison (takes about a minute once)"
      python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$venv"; }
      "$venv/bin/pip" install --quiet --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION" psycopg2-binary
    fi
    export PARLEY_BENCH_SYNAPSE="$venv/bin/python"
  fi
}

# HAProxy in front of a local cluster's nodes (scripts/cluster, the cluster tests).
ensure_haproxy() {
  if ! command -v haproxy >/dev/null; then say "installing HAProxy"; apt_install haproxy; fi
}

# clamd, for the tests of virus scanning (they start their own, with a
# signature database that knows only the EICAR test file).
ensure_clamav() {
  if ! command -v clamd >/dev/null; then say "installing ClamAV's daemon"; apt_install clamav-daemon; fi
}

pg_ready() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

ensure_postgres() {
  pg_ready && return 0
  if ! command -v pg_ctlcluster >/dev/null; then
    say "installing PostgreSQL"
    apt_install postgresql
  fi
  local version
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! as_root grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    # Tests connect as postgres over loopback without a password.
    as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  say "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main restart
  for _ in $(seq 1 50); do pg_ready && return 0; sleep 0.2; done
  echo "PostgreSQL did not start on 127.0.0.1:5432" >&2
  return 1
}

# A hash of everything the release build reads.
release_inputs_hash() {
  (cd "$ROOT" && find Cargo.toml Cargo.lock .cargo/config.toml scripts/lib.sh scripts/emoji.mjs end2end/package-lock.json app frontend server domain style public migrations -type f -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

# Builds the release: the server binary, and the site it serves under
# target/site (see build_site). What cargo-leptos's `build --release` does,
# with the same names and cache folders, without the 18 minutes of
# compiling cargo-leptos itself. The server and the site are built side by
# side (their target folders are separate): the server's build is the
# longer, and for much of it one core is idle.
build_release() {
  # wasm-bindgen and wasm-opt take about two minutes even when nothing
  # changed, so the whole build is skipped when its inputs are the same. The
  # binary in the shared cache belongs to whichever clone built it last, and
  # server-function URLs depend on the source path: the clone is part of the key.
  # So is the binary's time and size: a binary built by hand since (a cargo
  # build of other sources, put back afterwards) is not this build's.
  local stamp="$CARGO_TARGET_DIR/parley-release.stamp" want binary="$CARGO_TARGET_DIR/release/parley"
  want="$(release_inputs_hash) $ROOT"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want $(stat -c '%Y %s' "$binary" 2>/dev/null)" ] && [ -x "$binary" ] \
    && [ -f "$ROOT/target/site/hash.txt" ]; then
    say "the release build is up to date"
    return 0
  fi
  ensure_build_tools
  ensure_npm_packages
  local logs site="$ROOT/target/site" started=$SECONDS failed=0
  logs="$(mktemp -d)"
  # As cargo-leptos sets them: the server names the app's files after
  # LEPTOS_OUTPUT_NAME (read when leptos is compiled).
  export LEPTOS_OUTPUT_NAME=parley LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg
  say "compiling the server, and the site beside it (about 20 minutes the first time on two cores; 3 to 6 after a change)"
  (cd "$ROOT" && cargo build --release --package=server --bin=parley) > "$logs/server.log" 2>&1 &
  local server=$!
  build_site "$site.new" "$logs" &
  local app=$!
  wait "$app" || { failed=1; echo "--- building the site failed:"; tail -n 60 "$logs/site.log"; }
  wait "$server" || { failed=1; echo "--- compiling the server failed:"; tail -n 60 "$logs/server.log"; }
  rm -rf "$logs"
  [ "$failed" = 0 ] || return 1
  rm -rf "$site.old"
  if [ -d "$site" ]; then mv "$site" "$site.old"; fi
  mv "$site.new" "$site" && rm -rf "$site.old"
  echo "$want $(stat -c '%Y %s' "$binary")" > "$stamp"
  say "the release build is ready ($((SECONDS - started)) s)"
}

# Builds the site into `out`: the WebAssembly app with its JavaScript loader
# and the style sheet under pkg/, public/ beside them, and brotli and gzip
# copies of what compresses. The app is split (frontend/site-build) into the
# part every page loads and the parts loaded when first used (lazily loaded
# pages), then wasm-bindgen writes the JavaScript around the first and
# wasm-opt -Oz shrinks each; site-build then names each file after a hash of
# its content (so that browsers may keep it for good; the server reads the
# names from hash.txt). The first time, wasm-bindgen-cli and site-build
# compile beside the app (taking their share of the cores: the site is then
# ready before the server, not after it). Tools' output goes to
# `logs`/site.log.
build_site() {
  local out="$1" log="$2/site.log" front="$CARGO_TARGET_DIR/front" started=$SECONDS
  local tool="$CARGO_TARGET_DIR/tools/tool/site-build"
  (bash -c "source '$ROOT/scripts/lib.sh'; ensure_wasm_bindgen") >> "$log" 2>&1 &
  local bindgen=$!
  (cd "$ROOT" && cargo build --package=site-build --profile=tool --target-dir="$CARGO_TARGET_DIR/tools") >> "$log" 2>&1 &
  local site_build=$!
  (cd "$ROOT" && cargo build --package=frontend --lib --target=wasm32-unknown-unknown \
    --profile=wasm-release --target-dir="$front") >> "$log" 2>&1 || return 1
  say "the WebAssembly app compiled in $((SECONDS - started)) s"
  wait "$bindgen" || return 1
  wait "$site_build" || return 1
  say "splitting the app, generating its JavaScript loader (wasm-bindgen) and shrinking it (wasm-opt -Oz, about two minutes)"
  rm -rf "$out" && mkdir -p "$out/pkg"
  "$tool" split "$front/wasm32-unknown-unknown/wasm-release/frontend.wasm" "$front/main.wasm" "$out/pkg" >> "$log" || return 1
  wasm-bindgen --target=web --no-typescript --keep-lld-exports --out-name=parley --out-dir="$out/pkg" "$front/main.wasm" >> "$log" 2>&1 || return 1
  mv "$out/pkg/parley_bg.wasm" "$out/pkg/parley.wasm"
  find "$out/pkg" -name '*.wasm' -print0 | xargs -0 -P2 -I{} wasm-opt -Oz --enable-bulk-memory \
    --enable-nontrapping-float-to-int {} -o {} >> "$log" 2>&1 || return 1
  cp "$ROOT/style/main.css" "$out/pkg/parley.css"
  # The emoji font's subsets (with their @font-face rules, added to the
  # style sheet) and the emoji list for the picker.
  node "$ROOT/scripts/emoji.mjs" "$out" "$ROOT/end2end/node_modules" >> "$log" || return 1
  # The public files first: naming rewrites the service worker's imports.
  cp -r "$ROOT/public/." "$out/"
  "$tool" name "$out" >> "$log" || return 1
  find "$out" -type f \( -name '*.js' -o -name '*.wasm' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \
    -o -name '*.webmanifest' -o -name '*.json' \) -print0 \
    | xargs -0 -P2 -I{} sh -c 'brotli -q 11 -f -k "$1" && gzip -9 -f -k "$1"' _ {} || return 1
  say "the site is built ($((SECONDS - started)) s)"
}
