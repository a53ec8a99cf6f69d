# ember — native build.  `make` builds build/libember.a, build/ember (the tool), build/ember-tests,
# build/ember-bench;
# `make test` builds and runs the tests. Cross builds use CMake (see README.md).
#
#   make BUILD=build-san SAN=1 test    tests under AddressSanitizer + UBSan
#   make THREADS=0                     library without threads (as on microcontrollers)
#
# Sources are found by folder; files named *-avx2.cpp / *-avx512.cpp get their ISA flags,
# platform/x86 is built on x86-64 only and platform/arm on ARM only.

CXX      ?= g++
BUILD    ?= build
OPT      ?= -O2
WARN     := -Wall -Wextra -Werror
CXXFLAGS += -std=c++17 $(OPT) -g $(WARN) -ffp-contract=off -I. -MMD -MP
LIBFLAGS := -fno-exceptions -fno-rtti
LDLIBS   += -pthread

ifeq ($(SAN),1)
  # vptr checks need RTTI, which the library is built without: code built with RTTI (the
  # tool, the tests) would reference typeinfo the library never emits.
  CXXFLAGS += -fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS  += -fsanitize=address,undefined
endif
ifeq ($(THREADS),0)
  CXXFLAGS += -DEMBER_NO_THREADS
endif

AVX2_FLAGS   := -mavx2 -mfma
AVX512_FLAGS := -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512dq

MACHINE := $(shell $(CXX) -dumpmachine)
LIB_DIRS := core platform platform/scalar io nn data models metrics train
ifneq (,$(findstring x86_64,$(MACHINE)))
  LIB_DIRS += platform/x86
endif
ifneq (,$(filter aarch64% arm%,$(MACHINE)))
  LIB_DIRS += platform/arm
endif

LIB_SRC   := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.cpp))
TEST_SRC  := $(wildcard tests/*.cpp)
BENCH_SRC := $(wildcard examples/bench/*.cpp)
TOOL_SRC  := $(wildcard examples/ember/*.cpp)

LIB_OBJ   := $(LIB_SRC:%.cpp=$(BUILD)/obj/%.o)
TEST_OBJ  := $(TEST_SRC:%.cpp=$(BUILD)/obj/%.o)
BENCH_OBJ := $(BENCH_SRC:%.cpp=$(BUILD)/obj/%.o)
TOOL_OBJ  := $(TOOL_SRC:%.cpp=$(BUILD)/obj/%.o)

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

# Library code: no exceptions, no RTTI; per-ISA flags by file name.
$(BUILD)/obj/%-avx2.o: %-avx2.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LIBFLAGS) $(AVX2_FLAGS) -c $< -o $@
$(BUILD)/obj/%-avx512.o: %-avx512.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LIBFLAGS) $(AVX512_FLAGS) -c $< -o $@
$(foreach d,core platform io nn data models metrics train,$(BUILD)/obj/$(d)/%.o): LIB_ONLY := $(LIBFLAGS)
$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LIB_ONLY) -c $< -o $@

# Tests need doctest; tests/need-doctest.sh installs it when root, else says what to install.
$(TEST_OBJ): | doctest
doctest:
	@sh tests/need-doctest.sh

test: $(BUILD)/ember-tests
	$(BUILD)/ember-tests

clean:
	rm -rf $(BUILD)

.PHONY: all test clean doctest
-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BENCH_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(wildcard $(BUILD)/obj/examples/api/*.d)
