# Makefile - the user interface of the kit.
#
#   make            build the reference and every variant (timed builds)
#   make test       install what is missing, build, run the suite on every
#                   variant (stats and trace builds, and the timed ref build)
#   make check      the suite under address+undefined and thread sanitizers
#                   on every variant, valgrind on ref, the stress run, the
#                   wake-protocol model (tests/model)
#   make stress     mixed load on every variant, 3e6 checked operations each
#   make soak DURATION=SECONDS [VARIANT=a,b]   the stress for as long as asked
#   make bench      the benchmarks (bench/README.md); FULL=1, WORKLOAD=, VARIANT=
#   make plots      redraw the figures of results/latest
#   make trace      record an LTTng trace of a workload (trace/README.md)
#   make help       this list
#
# Each build is build/<name>/ with its own objects and libschedlab.a:
#   <variant>         timed build: no counters, no tracepoints
#   <variant>-stats   mechanism counters (-DSL_STATS)
#   <variant>-trace   LTTng-UST tracepoints (-DSL_TRACE)
#   <variant>-asan, <variant>-tsan   sanitizer builds of the stats build
#
# Adding a variant: write variants/<name>.h and add <name> to VARIANTS.

VARIANTS := ref no-inline-budget no-private-queue no-sentinel unbounded-inline \
            gated-stop asio-cascade event-interval send-recv hook-interrupts \
            timer-fastpath batch-drain single-threaded tuned
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
             libxml2-utils gdb
Q := @

.PHONY: all help test check bench trace plots clean deps-test
.DEFAULT_GOAL := all

all: $(foreach v,$(ALL_VARIANTS),build/$(v)/libschedlab.a)

help:
	@sed -n '3,22p' Makefile | sed 's/^# \{0,1\}//'

# ---- per-build flags ---------------------------------------------------

# $(call variant_of,build-name) -> variant name
variant_of = $(patsubst %-stats,%,$(patsubst %-trace,%,$(patsubst %-asan,%,$(patsubst %-tsan,%,$(1)))))
# The -D flags that select the variant file.
define variant_flags
-DSL_VARIANT='"$(1)"' $(if $(filter event-interval tuned,$(1)),-DSL_EVENT_INTERVAL=$(EVENT_INTERVAL)) $(if $(filter ref,$(1)),,$(if $(filter budget-%,$(1)),-DSL_VARIANT_FILE='"../variants/fixed-budget.h"' -DSL_FIXED_BUDGET=$(patsubst budget-%,%,$(1)),-DSL_VARIANT_FILE='"../variants/$(1).h"'))
endef
define kind_flags
$(if $(filter %-stats,$(1)),-DSL_STATS,)$(if $(filter %-trace,$(1)),-DSL_TRACE,)$(if $(filter %-asan,$(1)),-DSL_STATS -O1 -fsanitize=address$(comma)undefined -fno-omit-frame-pointer -fno-sanitize-recover=all,)$(if $(filter %-tsan,$(1)),-DSL_STATS -O1 -fsanitize=thread,)
endef
build_cflags = $(CFLAGS_BASE) $(OPT) $(call variant_flags,$(call variant_of,$(1))) $(call kind_flags,$(1))
build_ldflags = $(if $(filter %-asan,$(1)),-fsanitize=address$(comma)undefined,)$(if $(filter %-tsan,$(1)),-fsanitize=thread,)$(if $(filter %-trace,$(1)),-llttng-ust -ldl,)

# ---- library and test binary of one build -------------------------------

define build_rules
build/$(1)/%.o: ref/%.c ref/*.h variants/*.h | build/$(1)/.dir
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

# ---- test ---------------------------------------------------------------

TEST_BUILDS := $(addsuffix -stats,$(ALL_VARIANTS)) ref
TRACE_TEST_BUILDS := $(addsuffix -trace,$(ALL_VARIANTS))

deps-test:
	$(Q)tools/ensure-deps gcc make $(TEST_DEPS)

# Each build's suite runs in turn; the runner prints the build's name first.
# The trace builds run the suite too, recording a short traced run each
# (SL_TRACE_CHECK=1; trace/record.sh starts an LTTng daemon if none runs).
test: deps-test
	$(Q)$(MAKE) --no-print-directory $(foreach b,$(TEST_BUILDS) $(TRACE_TEST_BUILDS),build/$(b)/tests) \
	    $(foreach v,$(ALL_VARIANTS),build/$(v)-trace/workloads)
	$(Q)SL_TRACE_CHECK=1 tools/run-suites $(TEST_BUILDS) $(TRACE_TEST_BUILDS)

CHECK_BUILDS := $(addsuffix -asan,$(ALL_VARIANTS)) $(addsuffix -tsan,$(ALL_VARIANTS))
check: deps-test
	$(Q)tools/ensure-deps valgrind spin
	$(Q)$(MAKE) --no-print-directory $(foreach b,$(CHECK_BUILDS) ref-stats,build/$(b)/tests)
	$(Q)SL_SANITIZED=1 tools/run-suites $(CHECK_BUILDS)
	$(Q)SL_VALGRIND=1 tools/run-suites ref-stats
	$(Q)$(MAKE) --no-print-directory stress
	$(Q)tests/model/run.sh

# ---- bench / trace (see their directories) ------------------------------

-include bench/bench.mk
-include trace/trace.mk
-include tests/tests.mk

clean:
	rm -rf build
