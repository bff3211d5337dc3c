#!/usr/bin/env bash
# Installs everything the test suite drives, so that no real-client test ever has to skip:
#   - the [test] extras of pyproject.toml (pytest, confluent-kafka, kafka-python, aiokafka, codecs);
#     the project itself is installed by the Makefile (`make setup`), not here;
#   - kafkajs 2.2.4 and its codec packages, pinned by tests/interop/js/package-lock.json;
#   - Apache Kafka 4.4.0's jars from Maven Central (Java clients, tools, and the reference broker)
#     through tools/kafka_dist.py.
# Idempotent and quiet; each step is skipped when its stamp says it is already done.
# Run from the repository root:  bash tools/setup_test_env.sh   (PYTHON=... selects the interpreter)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
STAMPS="$ROOT/.deps/stamps"
mkdir -p "$STAMPS"

# A stamp records the hash of the inputs of a step; the step reruns only when they change.
stamp_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }
done_already() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
mark_done() { echo "$2" > "$STAMPS/$1"; }

# 1. Python test extras (read from pyproject so there is one list).
py_stamp="$(stamp_of pyproject.toml)-$("$PYTHON" -c 'import sys; print(sys.prefix)' | sha256sum | cut -c1-8)"
if ! done_already python "$py_stamp"; then
  mapfile -t reqs < <("$PYTHON" - <<'PY'
import tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["test"]))
PY
)
  "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore "${reqs[@]}"
  mark_done python "$py_stamp"
fi

# 2. kafkajs and its codec packages (exact versions from the lock file). @kafkajs/zstd compiles a
#    native addon (cppzst) whose build asks for C++11, which Node 20's headers reject: build it as C++17.
js_dir="$ROOT/tests/interop/js"
js_stamp="$(stamp_of "$js_dir/package.json" "$js_dir/package-lock.json")-$(node --version)"
if ! done_already js "$js_stamp" || [ ! -d "$js_dir/node_modules/kafkajs" ]; then
  if [ -f "$js_dir/package-lock.json" ]; then
    (cd "$js_dir" && CXXFLAGS="-std=c++17 ${CXXFLAGS:-}" npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  else
    (cd "$js_dir" && CXXFLAGS="-std=c++17 ${CXXFLAGS:-}" npm install --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  mark_done js "$js_stamp"
fi

# 3. Apache Kafka 4.4.0 jars (Java tools + the reference broker for FASTKAFKA_TEST_TARGET=apache).
if [ -f tools/kafka_dist.py ]; then
  "$PYTHON" tools/kafka_dist.py fetch >/dev/null
elif [ -f tools/fetch_kafka_jars.sh ]; then
  bash tools/fetch_kafka_jars.sh >/dev/null
else
  echo "setup_test_env: neither tools/kafka_dist.py nor tools/fetch_kafka_jars.sh exists" >&2
  exit 1
fi
