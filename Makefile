# The two commands a newcomer needs (see README):
#   make run    set up, then start a single-node broker+controller on 127.0.0.1:9092
#   make test   set up, then run the whole test suite (what CI runs: .ci/run)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: run test setup test-setup check-generated typecheck build clean bench stress-startup fuzz-long

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel "Cython>=3.0"
	touch $@

# Editable install: compiles the Cython extensions in src/fastkafka/_native (the only compiling:
# the runtime dependencies, liburing included, are prebuilt wheels). Redone only when the build
# inputs change (Python sources are picked up live by the editable install).
# uring.so/.c: left by builds from when uring was a .pyx; an extension module would shadow uring.py.
$(VENV)/.installed: $(VENV)/.created setup.py pyproject.toml $(wildcard src/fastkafka/_native/*.pyx src/fastkafka/_native/*.pxd src/fastkafka/_native/*.h)
	rm -f src/fastkafka/_native/uring.*.so src/fastkafka/_native/uring.c
	$(PIP) install -q --no-build-isolation -e .
	touch $@

setup: $(VENV)/.installed

build: setup

run: setup
	$(VENV)/bin/fastkafka

test-setup: setup
	PYTHON=$(PY) bash tools/setup_test_env.sh

check-generated: setup
	@if [ -d ../shared/kafka-protocol/messages ]; then \
	  $(PY) -m fastkafka._tools.genproto ../shared/kafka-protocol --check; \
	else echo "spec folder ../shared/kafka-protocol absent: generated-code check skipped"; fi

test: test-setup check-generated typecheck
	$(PY) -m pytest -q --durations=30

# Long run: compressed batches decompressing to 4 GB (gzip/lz4/zstd) against a compacted topic,
# probe bounds held (a few minutes; the 1 GB cases run in `make test`).
test-long-compressed: test-setup
	FASTKAFKA_LONG_TESTS=1 $(PY) -m pytest -q -s tests/interop/test_hardening_compressed.py -k gigabyte

# Static check (mypy strict, pyproject's [tool.mypy]) of the typed handler interface: the handler
# package, net/server.py, server.py and the components built with the broker (cluster/group,
# cluster/transaction, config_describer), against net/broker_services.BrokerServices, which
# KafkaRaftServer must satisfy structurally (checked there without a cast).
# Scope: only these files; the rest of the tree has older strict-mode errors,
# which --follow-imports=silent reads for their types but does not report. About 3 s (cold cache),
# so `make test` runs it first.
TYPECHECK_FILES := src/fastkafka/net/broker_services.py src/fastkafka/net/handlers src/fastkafka/net/server.py \
	src/fastkafka/server.py src/fastkafka/cluster/group src/fastkafka/cluster/transaction src/fastkafka/cluster/config_describer.py \
	src/fastkafka/cluster/replication src/fastkafka/cluster/coordinator_shards.py
typecheck: test-setup
	$(PY) -m mypy --follow-imports=silent $(TYPECHECK_FILES)

bench: setup
	$(PY) bench/run.py

# Long run (not in `make test`): the start-up readiness tests (a confluent-kafka create_topics right
# after the broker starts) 50 times with a busy-loop process per core beside them; prints the pass
# counts. STRESS_STARTUP_ARGS="-n 10", "--old-order" (the order before the fix: it fails).
stress-startup: test-setup
	$(PY) tools/stress_startup.py $(STRESS_STARTUP_ARGS)

# Long run (not in `make test`): tests/interop/test_fuzz.py with N mutated real-client frames
# (default 10,000,000; about 2 hours at ~1,400 frames/s on 2 cores) against a broker of its own:
# zero tracebacks, zero hangs, flat RSS, the probe's bounds; figures printed.
# `make fuzz-long N=1000000 FUZZ_SEED=7`; FASTKAFKA_TEST_TARGET=apache runs it against Kafka 4.4.
N ?= 10000000
FUZZ_SEED ?= 1
fuzz-long: test-setup
	FASTKAFKA_FUZZ_FRAMES=$(N) FASTKAFKA_FUZZ_SEED=$(FUZZ_SEED) $(PY) -m pytest -q -s tests/interop/test_fuzz.py

clean:
	rm -rf build $(VENV) src/fastkafka/_native/*.so src/fastkafka/_native/*.c
