# ember — native build.  `make` builds build/libember.a, build/ember (the tool), build/ember-tests,
# build/ember-bench;
# `make test` builds and runs the tests. Cross builds use CMake (see README.md).
#
#   make BUILD=build-san SAN=1 test    tests under AddressSanitizer + UBSan
#   make THREADS=0                     library without threads (as on microcontrollers)
#   make fuzz [FUZZ_SECONDS=60]        libFuzzer harnesses (tests/fuzz/, clang) in build-fuzz/,
#                                      each run that long; fails on any finding
#   make amalgamate                    dist/ember.h + dist/ember.cpp: the library as two files
#
# Sources are found by folder; files named *-avx2.cpp / *-avx512.cpp get their ISA flags,
# platform/x86 is built on x86-64 only and platform/arm on ARM only.

CXX      ?= g++
ifeq ($(FUZZ),1)
  # libFuzzer comes with clang; the library is built with coverage and ASan + UBSan so the
  # harnesses (tests/fuzz/run.sh) see every branch and stop at the first fault.
  CXX   := clang++
  BUILD ?= build-fuzz
endif
BUILD    ?= build
ifneq ($(SAN)$(FUZZ),)
  # Under the sanitizers (and the fuzzers, which use them): -O1 as ASan advises, and line
  # tables only (-g1), all a report's stack trace needs; builds in about 40% less time.
  OPT    ?= -O1
  DEBUG  ?= -g1
endif
OPT      ?= -O2
DEBUG    ?= -g
WARN     := -Wall -Wextra -Werror
CXXFLAGS += -std=c++17 $(OPT) $(DEBUG) $(WARN) -ffp-contract=off -I. $(EXTRA_INCLUDE) -MMD -MP
LIBFLAGS := -fno-exceptions -fno-rtti
LDLIBS   += -pthread

ifeq ($(SAN),1)
  # vptr checks need RTTI, which the library is built without: code built with RTTI (the
  # tool, the tests) would reference typeinfo the library never emits.
  CXXFLAGS += -fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS  += -fsanitize=address,undefined
endif
ifeq ($(FUZZ),1)
  # The sources silence some GCC-only warnings by name, which clang does not know.
  CXXFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer \
              -fno-sanitize-recover=all -Wno-unknown-warning-option
  LDFLAGS  += -fsanitize=address,undefined
endif
ifeq ($(PIC),1)
  # For the shared library (make shared): only the C API's functions are exported.
  CXXFLAGS += -fPIC -fvisibility=hidden
endif
ifeq ($(THREADS),0)
  CXXFLAGS += -DEMBER_NO_THREADS
endif

AVX2_FLAGS   := -mavx2 -mfma
AVX512_FLAGS := -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512dq

MACHINE := $(shell $(CXX) -dumpmachine)
LIB_DIRS := core platform platform/scalar io nn data models metrics train capi
ifneq (,$(findstring x86_64,$(MACHINE)))
  LIB_DIRS += platform/x86
endif
ifneq (,$(filter aarch64% arm%,$(MACHINE)))
  LIB_DIRS += platform/arm
endif
ifneq (,$(findstring wasm32,$(MACHINE)))
  # WebAssembly (make wasm): SIMD128 kernels, no threads, node's file system for the tests.
  LIB_DIRS += platform/wasm
  CXXFLAGS += -msimd128
  LDLIBS   := -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=64MB -sNODERAWFS=1 -sEXIT_RUNTIME=1 -sTOTAL_STACK=8MB
endif

# The programs (tool, bench, tests, examples) carry the C++ runtime's few pieces they use
# instead of mapping the whole shared libstdc++: a binary that runs on a board with another
# libstdc++, and about 1 MB less resident memory (the loader touches the shared library's
# pages whether ember uses them or not). Not under the sanitizers or emscripten.
ifeq ($(SAN)$(FUZZ),)
  ifeq (,$(findstring wasm32,$(MACHINE)))
    LDFLAGS += -static-libstdc++ -static-libgcc
  endif
endif

LIB_SRC   := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.cpp))
TEST_SRC  := $(wildcard tests/*.cpp)
BENCH_SRC := $(wildcard examples/bench/*.cpp)
TOOL_SRC  := $(wildcard examples/ember/*.cpp)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz-*.cpp)

LIB_OBJ   := $(LIB_SRC:%.cpp=$(BUILD)/obj/%.o)
TEST_OBJ  := $(TEST_SRC:%.cpp=$(BUILD)/obj/%.o)
BENCH_OBJ := $(BENCH_SRC:%.cpp=$(BUILD)/obj/%.o)
TOOL_OBJ  := $(TOOL_SRC:%.cpp=$(BUILD)/obj/%.o)
FUZZERS   := $(FUZZ_SRC:tests/fuzz/%.cpp=$(BUILD)/%)

EXAMPLES  := $(BUILD)/example-train-and-sample $(BUILD)/example-sample-on-device

all: $(BUILD)/libember.a $(BUILD)/ember $(BUILD)/ember-tests $(BUILD)/ember-bench $(EXAMPLES)

# Rebuilt from scratch so objects of renamed or deleted sources never linger in it.
$(BUILD)/libember.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/ember-tests: $(TEST_OBJ) $(BUILD)/libember.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) $(TEST_OBJ) $(BUILD)/libember.a $(LDLIBS) -o $@

$(BUILD)/ember-bench: $(BENCH_OBJ) $(BUILD)/libember.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) $(BENCH_OBJ) $(BUILD)/libember.a $(LDLIBS) -o $@

$(BUILD)/ember: $(TOOL_OBJ) $(BUILD)/libember.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) $(TOOL_OBJ) $(BUILD)/libember.a $(LDLIBS) -o $@

# test-train.cpp derives a scripted trainee from train::Trainee: built like the library
# (without RTTI), since a class built with RTTI needs its base's typeinfo, which the library
# does not emit.
$(BUILD)/obj/tests/test-train.o: CXXFLAGS += -fno-rtti

# The small API examples: one source file each.
$(BUILD)/example-%: $(BUILD)/obj/examples/api/%.o $(BUILD)/libember.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) $< $(BUILD)/libember.a $(LDLIBS) -o $@
.SECONDARY: $(patsubst %,$(BUILD)/obj/examples/api/%.o,train-and-sample sample-on-device)

# PyTorch interop (tests/interop/): the one-step VAE loss program and the parity script, which
# needs python3 with torch (Debian: python3-torch). Not part of `all`: most builds have no torch.
PYTHON ?= python3
$(BUILD)/interop-vae-step: $(BUILD)/obj/tests/interop/vae-step.o $(BUILD)/libember.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) $< $(BUILD)/libember.a $(LDLIBS) -o $@
interop: $(BUILD)/ember $(BUILD)/interop-vae-step
	$(PYTHON) tests/interop/parity.py $(BUILD)/ember

# The fuzz harnesses and the seed corpus generator (make FUZZ=1 fuzzers; see tests/fuzz/run.sh).
fuzzers: $(FUZZERS) $(BUILD)/make-corpus
$(BUILD)/fuzz-%: $(BUILD)/obj/tests/fuzz/fuzz-%.o $(BUILD)/libember.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -fsanitize=fuzzer $< $(BUILD)/libember.a $(LDLIBS) -o $@
$(BUILD)/make-corpus: $(BUILD)/obj/tests/fuzz/make-corpus.o $(BUILD)/libember.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) $< $(BUILD)/libember.a $(LDLIBS) -o $@
.SECONDARY: $(FUZZ_SRC:%.cpp=$(BUILD)/obj/%.o)

FUZZ_SECONDS ?= 60
fuzz:
	tests/fuzz/run.sh $(FUZZ_SECONDS)

# The whole library as two files, dist/ember.h and dist/ember.cpp (tools/amalgamate.sh).
amalgamate:
	bash tools/amalgamate.sh dist

# Library code: no exceptions, no RTTI; per-ISA flags by file name.
$(BUILD)/obj/%-avx2.o: %-avx2.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LIBFLAGS) $(AVX2_FLAGS) -c $< -o $@
$(BUILD)/obj/%-avx512.o: %-avx512.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LIBFLAGS) $(AVX512_FLAGS) -c $< -o $@
$(foreach d,$(LIB_DIRS),$(BUILD)/obj/$(d)/%.o): LIB_ONLY := $(LIBFLAGS)
$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LIB_ONLY) -c $< -o $@

# Tests need doctest; tests/need-doctest.sh installs it when root, else says what to install.
$(TEST_OBJ): | doctest
doctest:
	@sh tests/need-doctest.sh

# The C API as a shared library, build/libember.so, for languages that load C (capi/ember-c.h).
shared:
	$(MAKE) BUILD=$(BUILD)/pic PIC=1 $(BUILD)/pic/libember.a
	$(CXX) -shared -o $(BUILD)/libember.so -Wl,--whole-archive $(BUILD)/pic/libember.a -Wl,--no-whole-archive $(LDLIBS)

# WebAssembly with Debian's emscripten: the library with SIMD128 kernels and the unit tests,
# run under node (tests/wasm.sh); the web page's module is examples/web/build.sh's.
WASM_BUILD ?= build-wasm
wasm:
	@mkdir -p $(WASM_BUILD)/include && ln -sfn /usr/include/doctest $(WASM_BUILD)/include/doctest
	$(MAKE) CXX=em++ AR=emar BUILD=$(WASM_BUILD) THREADS=0 EXTRA_INCLUDE=-I$(WASM_BUILD)/include \
	  $(WASM_BUILD)/libember.a $(WASM_BUILD)/ember-tests.js

$(BUILD)/ember-tests.js: $(TEST_OBJ) $(BUILD)/libember.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) $(TEST_OBJ) $(BUILD)/libember.a $(LDLIBS) -o $@

test: $(BUILD)/ember-tests
	$(BUILD)/ember-tests

clean:
	rm -rf $(BUILD)

.PHONY: all test clean doctest fuzzers fuzz shared wasm interop amalgamate
-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BENCH_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(wildcard $(BUILD)/obj/tests/fuzz/*.d) $(wildcard $(BUILD)/obj/examples/api/*.d) \
  $(wildcard $(BUILD)/obj/tests/interop/*.d)
