# wdkmutex - the front door. `make demo` and `make check` install what is
# missing (Debian 12), build, and run. Build output goes to build/ only.

BUILD    ?= build
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE    ?= cmake
HOST_CC  ?= gcc
SAN_CC   ?= clang
TOOLCHAIN = $(CURDIR)/cmake/toolchain-mingw-w64-x86_64.cmake

.PHONY: all deps host host-libs host-asan host-tsan driver check check-host check-asan \
        check-tsan check-driver demo clean check-portability check-annotations \
        check-examples check-package driver-amalgamation check-amalgamation \
        check-thread-safety check-scope-seh \
        bench check-bench fuzz check-fuzz check-memcheck stress \
        check-wine-reliability wine-stress check-interrupts check-mutations mutate mutate-short \
        check-example

all: host driver

deps:
	@scripts/install-deps.sh

# --- host builds (library + emulation + unit tests) -----------------------

define host_build
	$(CMAKE) -S . -B $(BUILD)/$(1) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCMAKE_C_COMPILER=$(2) -DWDKM_SANITIZE=$(3) >/dev/null
	$(CMAKE) --build $(BUILD)/$(1) -j $(JOBS) $(4) >/dev/null
endef

host: deps
	$(call host_build,host,$(HOST_CC),)

# Only what a driver's own host test links (docs/host-testing.md): the
# library and the emulation, in build/host, without wdkmutex's tests.
host-libs: deps
	$(call host_build,host,$(HOST_CC),,--target wdkmutex wdkm_hostkernel)

host-asan: deps
	$(call host_build,host-asan,$(SAN_CC),address)

host-tsan: deps
	$(call host_build,host-tsan,$(SAN_CC),thread)

check-host: host
	@scripts/run-suite.sh "host" $(BUILD)/host

check-asan: host-asan
	@scripts/run-suite.sh "host asan+ubsan" $(BUILD)/host-asan

check-tsan: host-tsan
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	    scripts/run-suite.sh "host tsan" $(BUILD)/host-tsan

# --- kernel build (mingw-w64 driver + Wine) ---------------------------------

driver: deps
	$(CMAKE) -S . -B $(BUILD)/driver -DCMAKE_TOOLCHAIN_FILE=$(TOOLCHAIN) \
	    -DWDKM_KERNEL=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(CMAKE) --build $(BUILD)/driver -j $(JOBS) >/dev/null

check-driver: driver
	@scripts/run-driver-tests.sh $(BUILD)/driver

demo: driver
	@scripts/run-demo.sh $(BUILD)/driver

# The WDM examples: eventnotify (docs/csq.md), an event-notification driver with
# a cancel-safe queue, a timer DPC and cancellation, and pollread
# (examples/pollread/README.md), a polled-read driver with a StartIo current
# request, a work item and per-handle records under an ERESOURCE, and threadq
# (examples/threadq/README.md), a dedicated system thread servicing a queue
# with a hand-written cancel routine and per-handle registry locks, and ticker
# (examples/ticker/README.md), a timer DPC reading a setting an IOCTL changes,
# a work item booking per-handle contexts under an ERESOURCE, and an unload
# waiting for both on WDKM_RUNDOWN; each driven
# by a threaded client under Wine; release and checked builds, exact counts,
# no pool left.
check-example: driver
	@scripts/run-example.sh $(BUILD)/driver $(BUILD)/example

# The Wine reliability run (docs/reliability.md): the real driver loaded and
# unloaded 100 times, 4 threads x 4 s of IOCTLs on the library's locks, and
# no library pool left after any unload. Own Wine prefix in $(BUILD)/wine-reliability.
check-wine-reliability: driver
	@scripts/run-wine-reliability.sh $(BUILD)/driver $(BUILD)/wine-reliability

# Its long form: the same 100 cycles, then 60 s of hammering.
wine-stress: driver
	@scripts/run-wine-reliability.sh $(BUILD)/driver $(BUILD)/wine-stress --seconds 60

# --- ecosystem checks (docs/checks.md) ----------------------------------------

check-portability: deps
	@scripts/check-portability.sh $(BUILD)/portability

check-annotations: deps
	@scripts/check-annotations.py $(BUILD)/annotations

check-examples: deps
	@scripts/check-examples.sh $(BUILD)/examples

# clang -Wthread-safety -Werror over the demo, the docs and the test driver,
# and proof that it rejects lock bugs (docs/checks.md, Thread-safety analysis).
check-thread-safety: deps
	@scripts/check-thread-safety.sh $(BUILD)/thread-safety

# The scoped forms on __try/__finally (WDKM_SCOPE_SEH=1, built by clang
# -fms-extensions as MSVC builds them) and on the cleanup attribute, each
# exit path releasing, run under Wine (docs/checks.md).
check-scope-seh: deps
	@scripts/check-scope-seh.sh $(BUILD)/scope-seh

check-package: deps
	@scripts/check-package.sh $(BUILD)/package

driver-amalgamation: deps
	$(CMAKE) -S . -B $(BUILD)/driver-amalgamation -DCMAKE_TOOLCHAIN_FILE=$(TOOLCHAIN) \
	    -DWDKM_KERNEL=ON -DWDKM_TEST_FROM_AMALGAMATION=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(CMAKE) --build $(BUILD)/driver-amalgamation -j $(JOBS) --target wdkm_test_runner >/dev/null

check-amalgamation: driver-amalgamation
	@scripts/run-driver-tests.sh $(BUILD)/driver-amalgamation

# --- benchmarks (bench/README.md) ---------------------------------------------

# The full run, about a minute: bench/results/latest.{json,md} and the plot.
bench: deps
	@BUILD=$(BUILD) scripts/bench.sh

# Seconds, results in $(BUILD)/bench-smoke/: proves the benchmarks still run.
check-bench: deps
	@BUILD=$(BUILD) scripts/bench.sh --smoke

# --- long forms and memcheck (docs/reliability.md) ---------------------------

# The host unit tests under valgrind memcheck (part of make check).
check-memcheck: host
	@scripts/run-memcheck.sh $(BUILD)/host

# The stress run's long form: 8 threads x 1,000,000 operations, delay fuzzing
# on; then the interrupt-injection suites' long form (200,000 operations,
# a higher interrupt rate; INTERRUPT_SEED=N replays a seed); then the
# model-based walk (tests/unit/test_model.c), 8 seeds x 200,000 steps,
# against the release and the checked library.
stress: host
	@WDKM_STRESS_OPS=1000000 $(BUILD)/host/tests/unit/wdkm_unit_tests stress
	@scripts/run-interrupts.sh $(BUILD)/interrupts-long --long $(BUILD)/host
	@WDKM_MODEL_STEPS=200000 WDKM_MODEL_SEEDS=8 $(BUILD)/host/tests/unit/wdkm_unit_tests model.
	@WDKM_MODEL_STEPS=200000 WDKM_MODEL_SEEDS=8 $(BUILD)/host/tests/unit/wdkm_unit_tests_checked model.

# The racing suites (stress, registry, diagnostics) with DPCs and kernel
# APCs injected into every test thread, in the plain and TSan builds
# (docs/host-testing.md). INTERRUPT_SEED=N replays a seed.
check-interrupts: host host-tsan
	@scripts/run-interrupts.sh $(BUILD)/interrupts $(BUILD)/host $(BUILD)/host-tsan

# --- mutation testing (docs/reliability.md) ----------------------------------

# Every one-line mutation of src/ in tests/mutate/mutations.txt, each
# rebuilt and run against the host suites: which does the suite not notice?
# Tens of minutes; not part of make check.
mutate: deps
	@scripts/mutate.py --build $(BUILD)/mutate

# That every mutation still finds its line in the code (no build: part of
# make check, so the list cannot drift from the code unnoticed).
check-mutations:
	@scripts/mutate.py --check-list $(BUILD)/mutations/summary

# The mutations marked "short: yes" only.
mutate-short: deps
	@scripts/mutate.py --build $(BUILD)/mutate --short

# --- fuzzing (docs/reliability.md) -------------------------------------------

# libFuzzer against a reference model, a bounded minute.
fuzz: deps
	@BUILD=$(BUILD) tests/fuzz/run.sh 60

# A few seconds, to prove it runs.
check-fuzz: deps
	@BUILD=$(BUILD) tests/fuzz/run.sh 5

# --- everything ---------------------------------------------------------------

check: deps
	@scripts/check.sh

clean:
	rm -rf $(BUILD)
