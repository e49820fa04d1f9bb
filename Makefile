# Makefile - the user interface of the kit.
#
#   make            build the reference and every variant (timed builds)
#   make test       install what is missing, build, run the suite on every
#                   variant (stats and trace builds, and the timed ref build)
#   make check      the suite under address+undefined and thread sanitizers
#                   on every variant, valgrind on ref, the stress run, the
#                   wake-protocol model (tests/model), the mutation check
#   make mutants    each bug of tests/mutants/ put into a copy of ref/: the
#                   suite must fail on every one (prints the kill matrix)
#   make stress     mixed load on every variant, 3e6 checked operations each
#   make soak DURATION=SECONDS [VARIANT=a,b]   the stress for as long as asked
#   make bench      the benchmarks (bench/README.md); FULL=1, WORKLOAD=, VARIANT=,
#                   PEERS=, ROUNDS=, SEED= (replay a run's trial order)
#   make compare A=ref B=no-sentinel WORKLOAD=post_chain PARAM=16
#                   two variants head to head: interleaved hyperfine trials,
#                   A/A control, ratio with its interval, verdict, counters
#   make compare-runs OLD=results/<ts> NEW=results/<ts>
#                   verdicts of two bench runs side by side: agreement, flips
#   make instructions [VARIANT=a,b] [REV=<git rev>]
#                   instructions per handler (callgrind), beside REV's
#   make hypotheses each added idea against the build it changes, and tuned
#                   against the peers (bench/HYPOTHESES.md)
#   make plots      redraw the figures of results/latest
#   make trace      record an LTTng trace of a workload (trace/README.md)
#   make clean      remove build/ (results/ and traces/ are kept)
#   make help       this list
#
# Each build is build/<name>/ with its own objects and libschedlab.a:
#   <variant>         timed build: no counters, no tracepoints
#   <variant>-stats   mechanism counters (-DSL_STATS)
#   <variant>-trace   LTTng-UST tracepoints (-DSL_TRACE)
#   <variant>-asan, <variant>-tsan   sanitizer builds of the stats build
#   ref-aa, ref-aa-stats   the benchmarks' A/A control: ref again, own name
#
# Adding a variant: write variants/<name>.h and add <name> to VARIANTS.

# One line: bench/run.sh and bench/compare read it with sed when run by hand.
VARIANTS := ref no-inline-budget no-private-queue no-sentinel unbounded-inline gated-stop asio-cascade event-interval send-recv hook-interrupts timer-fastpath batch-drain single-threaded tuned
# Handlers between reactor polls of event-interval and tuned (Tokio's 61).
EVENT_INTERVAL ?= 61
# Fixed-cap budget variants for sweeps: make BUDGET=1,2,4,8,16,64 ...
BUDGET ?=
comma := ,
BUDGET_VARIANTS := $(addprefix budget-,$(subst $(comma), ,$(BUDGET)))
ALL_VARIANTS := $(VARIANTS) $(BUDGET_VARIANTS)

CC ?= cc
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread
OPT := -O2 -g
LDLIBS := -pthread

REF_SRCS := $(sort $(wildcard ref/*.c))
TEST_SRCS := $(sort $(wildcard tests/*.c))
TEST_DEPS := libcmocka-dev liblttng-ust-dev lttng-tools babeltrace2 python3-bt2 \
             libxml2-utils gdb liburing-dev
Q := @

.PHONY: all help test check bench trace plots clean deps-test
.DEFAULT_GOAL := all

all: $(foreach v,$(ALL_VARIANTS),build/$(v)/libschedlab.a)

help:
	@sed -n '3,36p' Makefile | sed 's/^# \{0,1\}//'

# ---- per-build flags ---------------------------------------------------

# $(call variant_of,build-name) -> variant name
variant_of = $(patsubst %-stats,%,$(patsubst %-trace,%,$(patsubst %-asan,%,$(patsubst %-tsan,%,$(1)))))
# The -D flags that select the variant file.  <variant>-aa (ref-aa: the
# benchmarks' A/A control, bench/bench.mk) is a second build of <variant>
# from the same source under its own name: same variant file, only
# SL_VARIANT (what sl_variant_name() and the RESULT lines say) differs.
define variant_flags
-DSL_VARIANT='"$(1)"' $(call variant_file_flags,$(patsubst %-aa,%,$(1)))
endef
define variant_file_flags
$(if $(filter event-interval tuned,$(1)),-DSL_EVENT_INTERVAL=$(EVENT_INTERVAL)) $(if $(filter ref uring,$(1)),,$(if $(filter budget-%,$(1)),-DSL_VARIANT_FILE='"../variants/fixed-budget.h"' -DSL_FIXED_BUDGET=$(patsubst budget-%,%,$(1)),-DSL_VARIANT_FILE='"../variants/$(1).h"'))
endef
define kind_flags
$(if $(filter %-stats,$(1)),-DSL_STATS,)$(if $(filter %-trace,$(1)),-DSL_TRACE,)$(if $(filter %-asan,$(1)),-DSL_STATS -O1 -fsanitize=address$(comma)undefined -fno-omit-frame-pointer -fno-sanitize-recover=all,)$(if $(filter %-tsan,$(1)),-DSL_STATS -O1 -fsanitize=thread,)
endef
# The variant files a build compiles (its objects depend on these alone,
# so editing one variant rebuilds only its builds); tuned includes three.
variant_headers = $(foreach v,$(patsubst %-aa,%,$(1)),$(if $(filter ref uring,$(v)),,$(if $(filter budget-%,$(v)),variants/fixed-budget.h,variants/$(v).h $(if $(filter tuned,$(v)),variants/event-interval.h variants/send-recv.h variants/gated-stop.h))))
build_cflags = $(CFLAGS_BASE) $(OPT) $(call variant_flags,$(call variant_of,$(1))) $(call kind_flags,$(1))
build_ldflags = $(if $(filter %-asan,$(1)),-fsanitize=address$(comma)undefined,)$(if $(filter %-tsan,$(1)),-fsanitize=thread,)$(if $(filter %-trace,$(1)),-llttng-ust -ldl,)

# ---- library and test binary of one build -------------------------------

define build_rules
build/$(1)/%.o: ref/%.c ref/*.h $(call variant_headers,$(call variant_of,$(1))) | build/$(1)/.dir
	@echo "  CC      $(1)/$$*.o"
	$(Q)$(CC) $(call build_cflags,$(1)) -c $$< -o $$@

build/$(1)/libschedlab.a: $(patsubst ref/%.c,build/$(1)/%.o,$(REF_SRCS)) $(if $(filter %-trace,$(1)),build/$(1)/sl_tp.o)
	@echo "  AR      $(1)/libschedlab.a"
	$(Q)rm -f $$@ && ar rcs $$@ $$^

build/$(1)/tests: $(TEST_SRCS) tests/*.h build/$(1)/libschedlab.a
	@echo "  LD      $(1)/tests"
	$(Q)$(CC) $(call build_cflags,$(1)) -Iref $(TEST_SRCS) build/$(1)/libschedlab.a \
	    -o $$@ -lcmocka $(LDLIBS) $(call build_ldflags,$(1)) \
	    -Wl,--wrap=timerfd_settime,--wrap=epoll_create1,--wrap=eventfd,--wrap=timerfd_create,--wrap=epoll_ctl,--wrap=epoll_wait,--wrap=write,--wrap=readv,--wrap=sendmsg,--wrap=recv,--wrap=send,--wrap=accept4,--wrap=socket,--wrap=socketpair,--wrap=pipe2,--wrap=pthread_create

build/$(1)/.dir:
	$(Q)mkdir -p build/$(1) && touch $$@
endef

KINDS := $(ALL_VARIANTS) $(addsuffix -stats,$(ALL_VARIANTS)) \
         $(addsuffix -trace,$(ALL_VARIANTS)) $(addsuffix -asan,$(ALL_VARIANTS)) \
         $(addsuffix -tsan,$(ALL_VARIANTS))
$(foreach k,$(KINDS),$(eval $(call build_rules,$(k))))

# ---- the io_uring backend (uring/) ----------------------------------------
# A second subject beside the epoll reference, as Redis keeps its polling
# backends side by side: its own scheduler and sockets (uring/*.c), ref's
# backend-independent files (timers, signals, resolver, socket_api.c,
# stats.c), the same schedlab.h.  Builds: uring, uring-stats, uring-trace, uring-asan, uring-tsan.
URING_OWN := $(sort $(wildcard uring/*.c))
URING_SHARED := ref/timer.c ref/signal.c ref/resolver.c ref/socket_api.c ref/stats.c
URING_KINDS := uring uring-stats uring-trace uring-asan uring-tsan
# liburing's objects go into each uring libschedlab.a, so every program of
# the kit (suite, stress, bench, trace workloads) links it unchanged.
LIBURING_A := $(shell $(CC) -print-file-name=liburing.a)

define uring_rules
$(patsubst uring/%.c,build/$(1)/%.o,$(URING_OWN)): build/$(1)/%.o: uring/%.c uring/*.h ref/*.h | build/$(1)/.dir
	@echo "  CC      $(1)/$$*.o"
	$(Q)$(CC) $(call build_cflags,$(1)) -c $$< -o $$@

$(patsubst ref/%.c,build/$(1)/%.o,$(URING_SHARED)): build/$(1)/%.o: ref/%.c ref/*.h | build/$(1)/.dir
	@echo "  CC      $(1)/$$*.o"
	$(Q)$(CC) $(call build_cflags,$(1)) -c $$< -o $$@

build/$(1)/libschedlab.a: $(patsubst uring/%.c,build/$(1)/%.o,$(URING_OWN)) $(patsubst ref/%.c,build/$(1)/%.o,$(URING_SHARED)) $(if $(filter %-trace,$(1)),build/$(1)/sl_tp.o)
	@echo "  AR      $(1)/libschedlab.a (with liburing)"
	$(Q)test -f $(LIBURING_A) || { echo "schedlab: liburing.a missing: tools/ensure-deps liburing-dev" >&2; exit 1; }
	$(Q)rm -rf $$@ build/$(1)/liburing && mkdir -p build/$(1)/liburing && \
	    cd build/$(1)/liburing && ar x $(LIBURING_A)
	$(Q)ar rcs $$@ $$^ build/$(1)/liburing/*

build/$(1)/tests: $(TEST_SRCS) tests/*.h build/$(1)/libschedlab.a
	@echo "  LD      $(1)/tests"
	$(Q)$(CC) $(call build_cflags,$(1)) -Iref $(TEST_SRCS) build/$(1)/libschedlab.a \
	    -o $$@ -lcmocka $(LDLIBS) $(call build_ldflags,$(1)) \
	    -Wl,--wrap=timerfd_settime,--wrap=epoll_create1,--wrap=eventfd,--wrap=timerfd_create,--wrap=epoll_ctl,--wrap=epoll_wait,--wrap=write,--wrap=readv,--wrap=sendmsg,--wrap=recv,--wrap=send,--wrap=accept4,--wrap=socket,--wrap=socketpair,--wrap=pipe2,--wrap=pthread_create

build/$(1)/.dir:
	$(Q)mkdir -p build/$(1) && touch $$@
endef
$(foreach k,$(URING_KINDS),$(eval $(call uring_rules,$(k))))

# ---- test ---------------------------------------------------------------

TEST_BUILDS := $(addsuffix -stats,$(ALL_VARIANTS)) ref uring-stats uring
TRACE_TEST_BUILDS := $(addsuffix -trace,$(ALL_VARIANTS)) uring-trace

deps-test:
	$(Q)tools/ensure-deps gcc make $(TEST_DEPS)

# Each build's suite runs in turn; the runner prints the build's name first.
# The trace builds run the suite too, recording a short traced run each
# (SL_TRACE_CHECK=1; trace/record.sh starts an LTTng daemon if none runs).
test: deps-test
	$(Q)$(MAKE) --no-print-directory $(foreach b,$(TEST_BUILDS) $(TRACE_TEST_BUILDS),build/$(b)/tests) \
	    $(foreach v,$(ALL_VARIANTS) uring,build/$(v)-trace/workloads)
	$(Q)SL_TRACE_CHECK=1 tools/run-suites $(TEST_BUILDS) $(TRACE_TEST_BUILDS)

CHECK_BUILDS := $(addsuffix -asan,$(ALL_VARIANTS)) $(addsuffix -tsan,$(ALL_VARIANTS)) \
                uring-asan uring-tsan
check: deps-test
	$(Q)tools/ensure-deps valgrind spin
	$(Q)$(MAKE) --no-print-directory $(foreach b,$(CHECK_BUILDS) ref-stats,build/$(b)/tests)
	$(Q)SL_SANITIZED=1 tools/run-suites $(CHECK_BUILDS)
	$(Q)SL_VALGRIND=1 tools/run-suites ref-stats
	$(Q)$(MAKE) --no-print-directory stress
	$(Q)tests/model/run.sh
	$(Q)$(MAKE) --no-print-directory mutants

# The mutation check (tools/mutants): one copy of the kit per mutant under
# build/mutants/, built as ref-stats, the suite run against it.
.PHONY: mutants
mutants: deps-test
	$(Q)tools/mutants

# ---- bench / trace (see their directories) ------------------------------

-include bench/bench.mk
-include trace/trace.mk
-include tests/tests.mk
# The bench workloads against the uring builds (bench/bench.mk's rule).
$(foreach k,uring uring-stats,$(eval $(call bench_prog_rules,$(k))))
# The stress program against the uring builds too (build/uring*/stress).
$(foreach k,$(URING_KINDS),$(eval $(call stress_rules,$(k))))

clean:
	rm -rf build
