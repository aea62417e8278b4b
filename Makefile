# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make            build build/slotap (and the test servers)
# make test       unit tests, then the root-only integration tests
# make unit       unit tests only (no privileges needed)
# make sanitize   the unit tests under ASan and UBSan, built in build/sanitize
# make fuzz       each libFuzzer target for FUZZ_SECONDS (tests/fuzz/README.md)
# make vmlinux    refresh the pinned bpf/$(ARCH)/vmlinux.h from this kernel
# make V=1        show full commands

OUTPUT    := build
CC        ?= gcc
CLANG     ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL   ?= bpftool
PROTOC_C  ?= protoc-c
PKG_CONFIG ?= pkg-config

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_H := bpf/$(ARCH)/vmlinux.h
ifeq ($(wildcard $(VMLINUX_H)),)
$(error no pinned $(VMLINUX_H) for this architecture: run 'make vmlinux' on a BTF kernel)
endif

LIBS_PC := libbpf libmicrohttpd gnutls libxcrypt yaml-0.1 libcurl libcjson libcap libprotobuf-c
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wno-missing-field-initializers -D_GNU_SOURCE \
	   -Iinclude -Iuser -Itests/bpf -I$(OUTPUT) -I$(OUTPUT)/proto $(shell $(PKG_CONFIG) --cflags $(LIBS_PC))
LDLIBS  += $(shell $(PKG_CONFIG) --libs $(LIBS_PC)) -lelf -lz -lpthread -lm

# The sanitized flavour (make sanitize): everything the unit tests link, in
# an output directory of its own, and any report is fatal.
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ifeq ($(SANITIZE),1)
CFLAGS  += $(SANITIZE_FLAGS)
LDFLAGS += $(SANITIZE_FLAGS)
endif
# The libFuzzer flavour (make fuzz): clang, the same sanitizers, coverage.
ifeq ($(FUZZ),1)
CFLAGS  += $(SANITIZE_FLAGS) -fsanitize=fuzzer-no-link
LDFLAGS += $(SANITIZE_FLAGS)
endif

# clang's own system include dirs, so BPF code sees the same asm/ headers
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -mcpu=v3 -Wall -Werror \
	      -Iinclude -Ibpf -Ibpf/$(ARCH) $(CLANG_BPF_SYS_INCLUDES)

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
# test-only programs (tests/bpf/): the same layers in an object of their own
TEST_BPF_SRCS := $(wildcard tests/bpf/*.bpf.c)
SKELS      := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS)) \
	      $(patsubst tests/bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(TEST_BPF_SRCS))

USER_SRCS  := $(wildcard user/*.c)
USER_OBJS  := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
# OTLP's messages (proto/README.md), compiled by protoc-c
PROTO_SRCS := $(shell find proto -name '*.proto')
PROTO_GEN  := $(patsubst proto/%.proto,$(OUTPUT)/proto/%.pb-c.c,$(PROTO_SRCS))
PROTO_HDRS := $(PROTO_GEN:.c=.h)
PROTO_OBJS := $(PROTO_GEN:.c=.o)
LIB_OBJS   := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS)) $(PROTO_OBJS)
LIB        := $(OUTPUT)/libslotap.a

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
SERVER_SRCS := $(wildcard tests/servers/*.c)
SERVER_BINS := $(patsubst tests/servers/%.c,$(OUTPUT)/tests/%,$(SERVER_SRCS))
# fault injection the integration tests preload into the agent
FAULT_LIBS := $(patsubst tests/fault/%.c,$(OUTPUT)/tests/lib%.so,$(wildcard tests/fault/*.c))
# Fuzz targets (tests/fuzz/fuzz_NAME.c): linked with replay.c, which runs
# the committed inputs once in make unit; with libFuzzer in make fuzz.
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAYS := $(FUZZ_NAMES:%=$(OUTPUT)/tests/fuzz-replay-%)
FUZZ_BINS    := $(FUZZ_NAMES:%=$(OUTPUT)/tests/fuzz-%)
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?= $(FUZZ_NAMES)
# the overhead benchmark's floor (one trivial raw_tp program), and the
# costs of the BPF helpers the request path uses
BENCH_BPF  := floor helpers
# tools on the agent's own BPF object: each program's share of the
# verifier's instruction budget on this kernel, and the parser's cost
SKEL_TOOLS := $(OUTPUT)/tests/verifier-budget $(OUTPUT)/tests/bench-parser

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

.PHONY: all test unit sanitize fuzz fuzz-build integration bench vmlinux clean install-deps
.DELETE_ON_ERROR:
.SECONDARY:

all: $(OUTPUT)/slotap $(SERVER_BINS) $(FAULT_LIBS) $(BENCH_BPF:%=$(OUTPUT)/tests/bench-%) $(SKEL_TOOLS)

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.tmp
	$(Q)$(LLVM_STRIP) -g $@.tmp -o $@ && rm -f $@.tmp

$(OUTPUT)/bpf/%.bpf.o: tests/bpf/%.bpf.c | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.tmp
	$(Q)$(LLVM_STRIP) -g $@.tmp -o $@ && rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# every agent object and unit test may include a skeleton: build them first
$(USER_OBJS) $(UNIT_BINS): $(SKELS) $(PROTO_HDRS)

# all at once: the files import each other
$(PROTO_GEN) $(PROTO_HDRS) &: $(PROTO_SRCS)
	$(call msg,PROTOC-C,$(OUTPUT)/proto)
	$(Q)mkdir -p $(OUTPUT)/proto && $(PROTOC_C) --proto_path=proto --c_out=$(OUTPUT)/proto $^

# generated code: its own warnings are not ours
$(PROTO_OBJS): %.o: %.c $(PROTO_HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -I$(OUTPUT)/proto $(shell $(PKG_CONFIG) --cflags libprotobuf-c) -c $< -o $@

$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# HPACK's Huffman decoding table, generated from RFC 7541 Appendix B by a
# program run on the build machine (HOSTCC: no cross or sanitizer flags)
HOSTCC ?= cc
$(OUTPUT)/tools/hpack_huffman_gen: scripts/hpack_huffman_gen.c | $(OUTPUT)/tools
	$(call msg,HOSTCC,$@)
	$(Q)$(HOSTCC) -O2 -std=gnu11 -Wall -Wextra -Werror $< -o $@
$(OUTPUT)/hpack_huffman.h: $(OUTPUT)/tools/hpack_huffman_gen
	$(call msg,GEN,$@)
	$(Q)$< > $@
$(OUTPUT)/user/hpack.o: $(OUTPUT)/hpack_huffman.h

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUTPUT)/slotap: $(OUTPUT)/user/main.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< $(TEST_EXTRA_$*) $(LIB) $(LDLIBS) \
		$(shell $(PKG_CONFIG) --libs cmocka) -o $@

$(OUTPUT)/tests/fuzz/%.o: tests/fuzz/%.c $(SKELS) | $(OUTPUT)/tests/fuzz
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/fuzz -MMD -MP -c $< -o $@

$(FUZZ_REPLAYS): $(OUTPUT)/tests/fuzz-replay-%: $(OUTPUT)/tests/fuzz/fuzz_%.o \
		$(OUTPUT)/tests/fuzz/fuzz.o $(OUTPUT)/tests/fuzz/replay.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(FUZZ_BINS): $(OUTPUT)/tests/fuzz-%: $(OUTPUT)/tests/fuzz/fuzz_%.o $(OUTPUT)/tests/fuzz/fuzz.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

# HPACK against libnghttp2's deflater and inflater (the oracle: tests only)
NGHTTP2_LIBS := $(shell $(PKG_CONFIG) --libs libnghttp2)
TEST_EXTRA_hpack := $(NGHTTP2_LIBS)
$(OUTPUT)/tests/fuzz-replay-hpack $(OUTPUT)/tests/fuzz-hpack: LDLIBS += $(NGHTTP2_LIBS)

# header blocks encoded by libnghttp2's deflater (an encoder slotap shares nothing with)
TEST_EXTRA_h2_conn := $(shell $(PKG_CONFIG) --libs libnghttp2)

# the parser's pairs against a reference client parser: llhttp, compiled
# from the C sources Debian's node-llhttp ships
LLHTTP_DIR  := /usr/share/llhttp
LLHTTP_OBJS := $(patsubst %,$(OUTPUT)/tests/llhttp/%.o,llhttp api http)
$(OUTPUT)/tests/test_http_parser: $(LLHTTP_OBJS)
TEST_EXTRA_http_parser := $(LLHTTP_OBJS) -I/usr/share/include/llhttp
$(OUTPUT)/tests/llhttp/%.o: $(LLHTTP_DIR)/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O2 -w -I/usr/share/include/llhttp -c $< -o $@

# the tests that drive the kernel's parsers through BPF_PROG_TEST_RUN share
# tests/bpf/bpf_feed.c: loading tests/bpf/parser_test.bpf.c, feeding, draining
BPF_FEED_TESTS := http_parser http2_parser redis_parser
BPF_FEED_FUZZ  := http_parser http2
BPF_FEED_OBJ   := $(OUTPUT)/tests/bpf_feed.o
$(BPF_FEED_TESTS:%=$(OUTPUT)/tests/test_%) $(BPF_FEED_FUZZ:%=$(OUTPUT)/tests/fuzz-replay-%) \
	$(BPF_FEED_FUZZ:%=$(OUTPUT)/tests/fuzz-%): $(BPF_FEED_OBJ)
$(foreach t,$(BPF_FEED_TESTS),$(eval TEST_EXTRA_$(t) += $(BPF_FEED_OBJ)))
$(BPF_FEED_OBJ): tests/bpf/bpf_feed.c $(SKELS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/tests/%: tests/servers/%.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< -lpthread -o $@

$(OUTPUT)/tests/lib%.so: tests/fault/%.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -fPIC -shared -MMD -MP $< -ldl -o $@

# benchmarks' own BPF objects and their loaders
$(BENCH_BPF:%=$(OUTPUT)/bpf/%.bpf.o): $(OUTPUT)/bpf/%.bpf.o: tests/bench/%.bpf.c | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.tmp
	$(Q)$(LLVM_STRIP) -g $@.tmp -o $@ && rm -f $@.tmp

$(BENCH_BPF:%=$(OUTPUT)/tests/bench-%): $(OUTPUT)/tests/bench-%: tests/bench/%.c $(OUTPUT)/%.skel.h | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< $(LDLIBS) -o $@

$(OUTPUT)/tests/verifier-budget: tests/bench/verifier_budget.c
$(OUTPUT)/tests/bench-parser: tests/bench/parser.c
$(SKEL_TOOLS): $(SKELS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $(filter %.c,$^) $(LDLIBS) -o $@

# the SLO engine's throughput and memory benchmark (scripts/bench-slo.sh)
$(OUTPUT)/tests/bench-slo: tests/bench/slo_bench.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< $(LIB) $(LDLIBS) -o $@

$(OUTPUT)/bpf $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/tests/fuzz $(OUTPUT)/tools:
	$(Q)mkdir -p $@

# the unit tests, every fuzz target on its committed inputs, and the rules
# `slotap rules` writes, regenerated, through promtool check and test rules
unit: $(UNIT_BINS) $(FUZZ_REPLAYS) $(OUTPUT)/slotap
	$(Q)scripts/run-unit-tests.sh $(UNIT_BINS) $(FUZZ_REPLAYS)
	$(call msg,RULES,tests/rules)
	$(Q)tests/rules/run.sh $(OUTPUT)/slotap $(OUTPUT)/rules >$(OUTPUT)/rules.log 2>&1 || \
		{ cat $(OUTPUT)/rules.log; exit 1; }
	$(Q)tail -1 $(OUTPUT)/rules.log

# Every unit test under the sanitizers, test_http_parser's BPF_PROG_TEST_RUN
# included (only userspace is instrumented: the kernel runs the parser).
# halt_on_error: a report ends the binary, so run-unit-tests.sh counts it.
sanitize:
	$(Q)ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) OUTPUT=$(OUTPUT)/sanitize SANITIZE=1 unit

# Each fuzz target of FUZZ_TARGETS for FUZZ_SECONDS, built with clang in
# build/fuzz; crashes land in tests/fuzz/regressions/NAME/ (tests/fuzz/README.md).
fuzz:
	$(Q)$(MAKE) OUTPUT=$(OUTPUT)/fuzz FUZZ=1 CC=$(CLANG) FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz-build
	$(Q)scripts/run-fuzz.sh $(OUTPUT)/fuzz/tests $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_TARGETS:%=$(OUTPUT)/tests/fuzz-%)

integration: all
	$(Q)python3 tests/integration/run.py

test: unit integration

bench: all $(OUTPUT)/tests/bench-slo
	$(Q)scripts/bench-overhead.sh
	$(Q)$(OUTPUT)/tests/bench-helpers
	$(Q)scripts/bench-slo.sh

install-deps:
	$(Q)scripts/install-deps.sh

vmlinux:
	$(call msg,GEN,$(VMLINUX_H))
	$(Q)mkdir -p bpf/$(ARCH) && $(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX_H).tmp \
		&& mv $(VMLINUX_H).tmp $(VMLINUX_H)

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/bpf/*.d $(OUTPUT)/user/*.d $(OUTPUT)/tests/*.d $(OUTPUT)/tests/fuzz/*.d)
