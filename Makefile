# objmem - a thin wrapper over CMake. `make demo` runs the tour, `make test`
# runs the suite (release with asserts, then ASan+UBSan), `make bench` the
# benchmarks. Targets that need Debian packages install them when run as
# root, else print the apt-get line and stop.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
DEPS := tools/ensure-deps.sh
CMAKE_COMMON := -DOM_BUILD_TESTS=ON

PREFIX ?= /usr/local

.PHONY: install all build demo test test-release test-asan valgrind bench bench-counts clean cpython-test build-clang docs check-install fuzz \
	test-tsan test-expensive shim-test

all: build

build:
	@$(DEPS) build
	@cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOM_DEBUG_LEVEL=1 $(CMAKE_COMMON) >/dev/null
	@cmake --build build/release -j $(JOBS)

# The tour: builds only the objmem command, quietly (the build's output is
# shown only when it fails; it is kept in build/release/demo-build.log).
demo:
	@$(DEPS) build
	@echo "objmem: building the tour (build/release; log: build/release/demo-build.log) ..."
	@mkdir -p build/release
	@{ cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOM_DEBUG_LEVEL=1 \
		$(CMAKE_COMMON) && cmake --build build/release -j $(JOBS) --target objmem; } \
		>build/release/demo-build.log 2>&1 || { cat build/release/demo-build.log; \
		echo "objmem: the build failed (above; also in build/release/demo-build.log)" >&2; exit 1; }
	@./build/release/objmem tour

test: test-release test-asan

test-release:
	@$(DEPS) test
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOM_DEBUG_LEVEL=1 $(CMAKE_COMMON) >/dev/null
	cmake --build build/release -j $(JOBS)
	cd build/release && ctest --output-on-failure -j $(JOBS)
	cd build/release && OBJMEM_GC_STRESS=1 ctest --output-on-failure -j $(JOBS) -L unit

test-asan:
	@$(DEPS) test
	cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DOM_SANITIZE=ON -DOM_DEBUG_LEVEL=1 $(CMAKE_COMMON) >/dev/null
	cmake --build build/asan -j $(JOBS)
	cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

valgrind:
	@$(DEPS) valgrind
	cmake -S . -B build/valgrind -DCMAKE_BUILD_TYPE=Debug -DOM_VALGRIND=ON -DOM_DEBUG_LEVEL=1 $(CMAKE_COMMON) >/dev/null
	cmake --build build/valgrind -j $(JOBS)
	cd build/valgrind && ctest --output-on-failure -j $(JOBS) -LE "slow|cpython|preload|doc|browser|shell" \
		-T memcheck --overwrite MemoryCheckCommandOptions="--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-possibly-lost=no"

bench:
	@$(DEPS) build
	cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DOM_BUILD_BENCH=ON -DOM_BUILD_TESTS=OFF >/dev/null
	cmake --build build/bench -j $(JOBS)
	cd build/bench && for b in bench/bench_*; do [ -x "$$b" ] && ./$$b || true; done

# Instructions and cache misses per operation under callgrind, next to ns
# (bench/bench_counts.py; entries in bench/counts*.list). BENCH_COUNTS_FILTER
# selects entries by label words, e.g. BENCH_COUNTS_FILTER="churn/objmem".
bench-counts:
	@$(DEPS) cmake gcc make valgrind python3
	cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DOM_BUILD_BENCH=ON -DOM_BUILD_TESTS=OFF >/dev/null
	cmake --build build/bench -j $(JOBS)
	python3 bench/bench_counts.py build/bench/bench $(BENCH_COUNTS_FILTER)

# CPython's own tests, plainly and on objmem (docs/cpython.md).
CPYTHON_TESTS ?= test_gc test_weakref test_dict test_list test_tuple test_set test_unicode \
	test_bytes test_json test_re test_itertools test_collections test_functools test_sys \
	test_descr test_class test_generators test_pickle test_array test_deque test_heapq \
	test_bisect test_string test_format test_struct test_operator test_copy test_enum \
	test_dataclasses test_tracemalloc

cpython-test:
	@$(DEPS) cmake gcc make libcmocka-dev python3.11-dev libpython3.11-testsuite
	@cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOM_DEBUG_LEVEL=1 $(CMAKE_COMMON) >/dev/null
	@cmake --build build/release -j $(JOBS) --target objmem_cpython
	/usr/bin/python3.11 tools/cpython/cpython_test.py --site build/release/cpython-site \
		--jobs $(JOBS) $(CPYTHON_TESTS)

# API reference from the header comments and the design notes of docs/
# (Doxygen; warnings are errors). Fails when a public function has no
# comment of its own (tools/check-docs.pl names the function and its line).
docs:
	@$(DEPS) doxygen
	@perl tools/check-docs.pl
	@rm -rf build/docs && mkdir -p build/docs
	doxygen docs/Doxyfile
	@perl tools/check-docs.pl --xml build/docs/xml
	@echo "docs: build/docs/html/index.html"

# Install the library (static and shared), the headers, objmem.pc, the CMake
# package and the objmem command into PREFIX (/usr/local), optimized and
# without the tests. DESTDIR=dir stages the files under dir. For a system
# prefix, ldconfig then makes libobjmem.so findable (README "Install").
install:
	@$(DEPS) cmake gcc make libdw-dev libunwind-dev pkg-config
	@cmake -S . -B build/install -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) \
		-DOM_BUILD_TESTS=OFF -DOM_BUILD_EXAMPLES=OFF -DOM_BUILD_CPYTHON=OFF >/dev/null
	@cmake --build build/install -j $(JOBS) >/dev/null
	cmake --install build/install
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

# Install into a temporary prefix, build the examples against it with
# find_package(objmem) (static and shared) and with pkg-config (a -static
# program from --static, and a shared one with an rpath), and run them.
check-install: build
	@$(DEPS) pkg-config libbz2-dev
	tools/check-install.sh build/release

# libFuzzer (clang, ASan+UBSan): each target of tests/fuzz/ for FUZZ_SECONDS,
# starting from its corpus tests/fuzz/corpus/<target>/; new inputs go to
# build/fuzz/corpus/<target>/ (copy the interesting ones into the corpus).
# An input that runs longer than FUZZ_TIMEOUT seconds or needs more than
# FUZZ_RSS_MB of memory is a finding (a hang, a blow-up), like a crash.
FUZZ_SECONDS ?= 60
FUZZ_TIMEOUT ?= 10
FUZZ_RSS_MB ?= 2048
FUZZ_TARGETS ?= $(sort $(basename $(notdir $(filter-out tests/fuzz/fuzz_main.c,$(wildcard tests/fuzz/fuzz_*.c)))))
fuzz:
	@$(DEPS) cmake make clang libclang-rt-14-dev libdw-dev
	cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DOM_SANITIZE=ON -DOM_BUILD_FUZZ=ON -DOM_BUILD_TESTS=OFF -DOM_BUILD_TOOLS=OFF \
		-DOM_DEBUG_LEVEL=1 >/dev/null
	cmake --build build/fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus/$$t && \
		./build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
			-rss_limit_mb=$(FUZZ_RSS_MB) -malloc_limit_mb=$(FUZZ_RSS_MB) -print_final_stats=1 \
			-artifact_prefix=build/fuzz/ build/fuzz/corpus/$$t tests/fuzz/corpus/$$t \
			2>&1 | tee build/fuzz/$$t.log | grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' \
			&& ! grep -q -E '==ERROR|ERROR: libFuzzer|deadly signal|check failed' build/fuzz/$$t.log || exit 1; done

# -Wall -Wextra -Werror clean with clang too (CI builds everything once with it).
build-clang:
	@$(DEPS) test
	@$(DEPS) clang
	CC=clang cmake -S . -B build/clang -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_COMMON) >/dev/null
	cmake --build build/clang -j $(JOBS)

# The unit tests with the expensive assertions on (OM_DEBUG_LEVEL=2: the
# whole heap checked after every collection of a small heap; docs/gc.md).
test-expensive:
	@$(DEPS) test
	cmake -S . -B build/expensive -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOM_DEBUG_LEVEL=2 \
		-DOM_BUILD_TOOLS=OFF -DOM_BUILD_EXAMPLES=OFF -DOM_BUILD_CPYTHON=OFF $(CMAKE_COMMON) >/dev/null
	cmake --build build/expensive -j $(JOBS)
	cd build/expensive && ctest --output-on-failure -j $(JOBS) -L unit

# The malloc replacement's threads under ThreadSanitizer (tests/shim/).
test-tsan:
	@$(DEPS) test
	cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOM_TSAN=ON -DOM_DEBUG_LEVEL=1 \
		-DOM_BUILD_TOOLS=OFF -DOM_BUILD_EXAMPLES=OFF -DOM_BUILD_CPYTHON=OFF $(CMAKE_COMMON) >/dev/null
	cmake --build build/tsan -j $(JOBS) --target test_shim_threads test_shim_family
	cd build/tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 allocator_may_return_null=1" \
		ctest --output-on-failure -j $(JOBS) -L thread

# Real Debian programs on libobjmem-malloc.so, output compared byte for
# byte with the same run on glibc (tools/shim-test.sh; SHIM_TEST_QUICK=1
# for the short version CI runs).
shim-test: build
	@$(DEPS) shim-test
	tools/shim-test.sh build/release

# Rewrite docs/leak-hunting.md from its commands' outputs (and its
# screenshot docs/leak-report.png); ctest doc_leak_hunting checks it.
leak-guide: build
	python3 tests/docs/leak_guide.py build/release --write

# The HTML report in headless Chromium (also a ctest, label browser, when
# chromium is installed): the flame graph must render.
html-test: build
	@$(DEPS) chromium
	sh tests/tools/test_html_browser.sh build/release/objmem

clean:
	rm -rf build
