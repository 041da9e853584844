# seqnn: plain Makefile. Targets: all (lib + CLI), test, asan, bench, fuzz,
# install PREFIX=..., clean.  Dependencies (Debian): libopenblas-dev zlib1g-dev
# libarchive-dev libcairo2-dev (HDF5 is read and written by seqnn's own code
# in src/interop/h5_*.c: no libhdf5).
CC      ?= gcc
PREFIX  ?= /usr/local
# MPI=1: the same library and CLI compiled with mpicc, plus src/dist (the
# MPI layer, include/seqnn/dist.h), into build-mpi/; `mpirun -np N seqnn
# forecast|classify ...` then trains one model over N ranks
# (docs/distributed.md). The default build has no MPI.
MPI     ?= 0
ifeq ($(MPI),1)
CC      = mpicc
BUILD   ?= build-mpi
MPI_CFLAGS = -DSN_HAVE_MPI
endif
BUILD   ?= build
OPT     ?= -O2
CFLAGS_BASE = -std=c11 -Wall -Wextra -Wpedantic $(OPT) -g -fopenmp -fPIC \
              -Iinclude -Isrc -DSN_HAVE_OPENBLAS
CAIRO_CFLAGS = $(shell pkg-config --cflags cairo 2>/dev/null)
CFLAGS  ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(MPI_CFLAGS) $(CFLAGS)
LDLIBS  = -lopenblas -lz -larchive -lm -lpthread
PLOT_LIBS = $(shell pkg-config --libs cairo 2>/dev/null || echo -lcairo)
LDFLAGS ?=

# The library is every .c under src/ but src/plot/ (the plotting library,
# the only part that links cairo); the CLI is cli/. See docs/architecture.md.
LIB_SRC  = $(sort $(filter-out src/plot/% $(if $(filter 1,$(MPI)),,src/dist/%),$(shell find src -name '*.c')))
LIB_OBJ  = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
PLOT_SRC = $(sort $(wildcard src/plot/*.c))
PLOT_OBJ = $(PLOT_SRC:src/%.c=$(BUILD)/obj/%.o)
TEST_SRC = $(sort $(wildcard tests/*.c))
TEST_OBJ = $(TEST_SRC:tests/%.c=$(BUILD)/tobj/%.o)
CLI_SRC  = $(sort $(wildcard cli/*.c))
CLI_OBJ  = $(CLI_SRC:cli/%.c=$(BUILD)/cobj/%.o)
HDRS     = $(wildcard include/seqnn/*.h include/*.h tests/*.h cli/*.h) $(shell find src -name '*.h')

.PHONY: all test asan bench fuzz install clean
all: $(BUILD)/libseqnn.a $(BUILD)/libseqnn.so $(BUILD)/libseqnn_plot.a $(BUILD)/seqnn

$(BUILD)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -c $< -o $@
$(BUILD)/tobj/%.o: tests/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -c $< -o $@
$(BUILD)/cobj/%.o: cli/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icli -c $< -o $@

# Vector-path kernels (src/layers: rnn/rnn_kern_*.c, conv1d_kern_*.c): one
# object per path, chosen at run time through sn_isa_get() (SEQNN_ISA forces
# one). Each gets its path's instruction set, and all of them
# -fno-trapping-math (lets GCC if-convert the selects in the activation
# loops so they vectorize; the values are the same IEEE results) and
# -ffp-contract=off (already implied by -std=c11 with GCC; stated because the
# paths are bit-identical only without FMA contraction). Off x86 every path
# compiles the same portable code.
KERN_X86 := $(filter x86_64% amd64%,$(shell $(CC) -dumpmachine 2>/dev/null))
KERN_FLAGS = -fno-trapping-math -ffp-contract=off
KERN_AVX2 = $(if $(KERN_X86),-mavx2)
KERN_AVX512 = $(if $(KERN_X86),-mavx512f -mavx512bw -mavx512dq -mavx512vl)
$(BUILD)/obj/layers/%_sse2.o: ALL_CFLAGS += $(KERN_FLAGS)
$(BUILD)/obj/layers/%_avx2.o: ALL_CFLAGS += $(KERN_FLAGS) $(KERN_AVX2)
$(BUILD)/obj/layers/%_avx512.o: ALL_CFLAGS += $(KERN_FLAGS) $(KERN_AVX512)

# fit/xsum.c (the exact gradient sum of chunked training) is integer and
# exactly rounded double arithmetic: -O3 vectorises it, the results are the same.
$(BUILD)/obj/fit/xsum.o: ALL_CFLAGS += -O3

$(BUILD)/libseqnn.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/libseqnn.so: $(LIB_OBJ)
	$(CC) -shared -fopenmp -o $@ $^ $(LDFLAGS) $(LDLIBS)
$(PLOT_OBJ) $(TEST_OBJ): ALL_CFLAGS += $(CAIRO_CFLAGS)
$(BUILD)/libseqnn_plot.a: $(PLOT_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/seqnn: $(CLI_OBJ) $(BUILD)/libseqnn_plot.a $(BUILD)/libseqnn.a
	$(CC) -fopenmp -o $@ $(CLI_OBJ) $(BUILD)/libseqnn_plot.a $(BUILD)/libseqnn.a $(LDFLAGS) $(PLOT_LIBS) $(LDLIBS)
$(BUILD)/test_all: $(TEST_OBJ) $(BUILD)/libseqnn_plot.a $(BUILD)/libseqnn.a
	$(CC) -fopenmp -o $@ $(TEST_OBJ) $(BUILD)/libseqnn_plot.a $(BUILD)/libseqnn.a $(LDFLAGS) $(PLOT_LIBS) $(LDLIBS)

# The whole suite; the runner ends with "N passed, N failed, N skipped".
test: $(BUILD)/test_all $(BUILD)/seqnn
	SEQNN_CLI=$(BUILD)/seqnn $(BUILD)/test_all $(T)

# ASan + UBSan build of everything, then the whole suite under it.
asan:
	$(MAKE) BUILD=$(if $(filter 1,$(MPI)),build-mpi-asan,build-asan) OPT="-O1 -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined,float-cast-overflow" \
	        LDFLAGS="-fsanitize=address,undefined,float-cast-overflow" test

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/seqnn $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/libseqnn.a $(BUILD)/libseqnn_plot.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libseqnn.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/seqnn.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/seqnn/*.h $(DESTDIR)$(PREFIX)/include/seqnn/
	install -m 755 $(BUILD)/seqnn $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|0.1.0|g' seqnn.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/seqnn.pc

clean:
	rm -rf build build-asan build-fuzz build-mpi build-mpi-asan

# libFuzzer harnesses (clang): build-fuzz/fuzz_<name>; `make fuzz` runs each for
# FUZZ_SECONDS on a copy of its committed seed corpus. Crashes land in
# build-fuzz/crash-*; each one found becomes a regression test.
FUZZ_SECONDS ?= 60
FUZZ_NAMES = csv model wordvec spec vectorizer json npy corpus fcmeta keras_config keras_zip keras_h5
FUZZ_CFLAGS = -std=c11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
              -Iinclude -Isrc -DSN_HAVE_OPENBLAS -fopenmp=libgomp $(shell pkg-config --cflags cairo 2>/dev/null)
FUZZ_LIB_OBJ = $(LIB_SRC:src/%.c=build-fuzz/obj/%.o) $(PLOT_SRC:src/%.c=build-fuzz/obj/%.o)
.SECONDARY: $(FUZZ_LIB_OBJ)
build-fuzz/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@
build-fuzz/obj/layers/%_sse2.o: FUZZ_CFLAGS += $(KERN_FLAGS)
build-fuzz/obj/layers/%_avx2.o: FUZZ_CFLAGS += $(KERN_FLAGS) $(KERN_AVX2)
build-fuzz/obj/layers/%_avx512.o: FUZZ_CFLAGS += $(KERN_FLAGS) $(KERN_AVX512)
build-fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_OBJ) fuzz/fuzz_common.h
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB_OBJ) -o $@ -lgomp $(PLOT_LIBS) $(LDLIBS)
fuzz: $(FUZZ_NAMES:%=build-fuzz/fuzz_%)
	@for n in $(FUZZ_NAMES); do \
	  mkdir -p build-fuzz/corpus-$$n && cp -n fuzz/corpus/$$n/* build-fuzz/corpus-$$n/ 2>/dev/null; \
	  echo "== fuzz_$$n for $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=detect_leaks=1 build-fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	    -artifact_prefix=build-fuzz/crash-$$n- -print_final_stats=0 build-fuzz/corpus-$$n fuzz/corpus/$$n 2>&1 | tail -n 3 \
	    || exit 1; \
	done
.PHONY: fuzz

# Benchmarks (measurements, not tests; docs/performance.md). `make bench`:
# seqnn, PyTorch and oneDNN's RNN primitives (when libdnnl is installed) on
# the seed's shapes, side by side, at each of BENCH_THREADS, BENCH_REPEAT
# times, in one table. `make gemm-bench`: every GEMM shape of the seed's
# models with every kernel this CPU has (oneDNN's sgemm among them when
# libdnnl is installed).
BENCH_THREADS ?= 1 2
BENCH_STEPS ?= 20
BENCH_REPEAT ?= 3
BENCH_STREAM_STEPS ?= 2000
HAVE_DNNL := $(shell test -e /usr/include/oneapi/dnnl/dnnl.h && echo 1)
PEERS ?= ../shared/peers
$(BUILD)/bench_models: bench/bench_models.c $(BUILD)/libseqnn.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libseqnn.a $(LDFLAGS) $(LDLIBS)
$(BUILD)/bench_stream: bench/bench_stream.c $(BUILD)/libseqnn.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libseqnn.a $(LDFLAGS) $(LDLIBS)
$(BUILD)/int8_weights: bench/int8_weights.c $(BUILD)/libseqnn.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libseqnn.a $(LDFLAGS) $(LDLIBS)
$(BUILD)/fma_peak: bench/fma_peak.c $(BUILD)/libseqnn.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libseqnn.a $(LDFLAGS) $(LDLIBS)
$(BUILD)/dnnl_rnn_bench: $(PEERS)/dnnl_rnn_bench.c
	$(CC) -O2 -fopenmp -o $@ $< -ldnnl -lm
$(BUILD)/gemm_bench: bench/gemm_bench.c $(BUILD)/libseqnn.a
	$(CC) $(ALL_CFLAGS) $(if $(HAVE_DNNL),-DSN_BENCH_DNNL) -o $@ $< -Wl,--wrap=sn_gemm,--wrap=cblas_sgemm,--wrap=sn_gemm_rb \
	  $(BUILD)/libseqnn.a $(LDFLAGS) $(LDLIBS) $(if $(HAVE_DNNL),-ldnnl)
bench: $(BUILD)/seqnn $(BUILD)/bench_models $(BUILD)/bench_stream $(BUILD)/fma_peak $(if $(HAVE_DNNL),$(if $(wildcard $(PEERS)/dnnl_rnn_bench.c),$(BUILD)/dnnl_rnn_bench))
	sh bench/run.sh "$(BENCH_THREADS)" $(BENCH_STEPS) $(BENCH_REPEAT)
	sh bench/run_stream.sh $(BENCH_STREAM_STEPS)
gemm-bench: $(BUILD)/gemm_bench
	$(BUILD)/gemm_bench $(or $(ROUNDS),9)
.PHONY: bench gemm-bench

# The whole suite under valgrind memcheck (errors and definite/indirect leaks
# fail the run). One thread: valgrind serialises threads anyway.
valgrind: $(BUILD)/test_all $(BUILD)/seqnn
	SEQNN_THREADS=1 SEQNN_CLI=$(BUILD)/seqnn valgrind --error-exitcode=9 --leak-check=full \
	  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	  --suppressions=tests/valgrind.supp -q $(BUILD)/test_all $(T)
.PHONY: valgrind

# The rank-count identity test of the MPI build (tests/mpi/run.sh): forecast
# and classify runs on 1, 2 and 3 ranks (oversubscribed, loopback only) must
# write byte-identical model files. `make MPI=1 test-mpi`.
test-mpi: $(BUILD)/seqnn
	sh tests/mpi/run.sh $(BUILD)/seqnn $(wildcard build/seqnn)
.PHONY: test-mpi
# Measurements of docs/distributed.md: chunked training throughput, bytes
# per step, time in communication; with MPI=1 also under mpirun.
$(BUILD)/bench_dist: tests/mpi/bench_dist.c $(BUILD)/libseqnn.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libseqnn.a $(LDFLAGS) $(LDLIBS)
bench-dist: $(BUILD)/bench_dist
.PHONY: bench-dist

# Architecture rules (docs/architecture.md): folder dependencies, no cycles,
# function and file lengths.
check-layout: all
	sh scripts/check_layout.sh $(BUILD)
	sh scripts/check_exports.sh $(BUILD)
.PHONY: check-layout

# Tests that compile a CLI source into the test binary (the forecasting metadata).
$(BUILD)/tobj/test_forecast_meta.o: cli/forecast_meta.c cli/forecast_meta.h
build-fuzz/fuzz_fcmeta: cli/forecast_meta.c cli/forecast_meta.h
