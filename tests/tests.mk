# tests/tests.mk - the stress program (tests/stress.c), built per build as
# build/<b>/stress, and its two targets (included by the top Makefile).
#
#   make stress          quick: every variant (and uring, the io_uring
#                        scheduler) at STRESS_OPS operations, then
#                        the ThreadSanitizer build of ref at STRESS_TSAN_OPS
#   make soak DURATION=seconds [VARIANT=ref,no-sentinel] [THREADS=n]
#                        each selected build (default: every variant; any
#                        build name, ref-tsan included) for DURATION seconds
#
# The program's own options (-t threads, -n ops, -d seconds, -p posters,
# -w watchdog seconds) go in STRESS_ARGS.  Each run ends with a summary line
# "stress: build B (kind): ops N threads T posters P seconds S ops/s R OK"
# and fails (non-zero) on an operation lost or run twice, a leaked
# descriptor, or when nothing completes for 30 s (the watchdog then prints
# the threads' stacks with gdb).

STRESS_OPS ?= 3000000
STRESS_TSAN_OPS ?= 100000
DURATION ?= 600
STRESS_ARGS ?=
SOAK_BUILDS := $(if $(VARIANT),$(subst $(comma), ,$(VARIANT)),$(VARIANTS))
STRESS_THREADS := $(if $(THREADS),-t $(THREADS),)

# ThreadSanitizer runs of the stress halt on the first report.
STRESS_TSAN_ENV = TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 exitcode=66"

.PHONY: stress soak

# build/<b>/stress for one build b: the file compiled with
# -DSL_STRESS_PROGRAM (the suite compiles it empty) against that build's
# library, with that build's flags (sanitizers included).
define stress_rules
build/$(1)/stress: tests/stress.c ref/schedlab.h build/$(1)/libschedlab.a
	@echo "  LD      $(1)/stress"
	$(Q)$(CC) $(call build_cflags,$(1)) -DSL_STRESS_PROGRAM -Iref tests/stress.c \
	    build/$(1)/libschedlab.a -o $$@ $(LDLIBS) $(call build_ldflags,$(1))
endef
$(foreach k,$(KINDS),$(eval $(call stress_rules,$(k))))

stress:
	$(Q)$(MAKE) -s --no-print-directory $(foreach v,$(VARIANTS) uring,build/$(v)/stress) \
	    build/ref-tsan/stress
	$(Q)fail=""; \
	for v in $(VARIANTS) uring; do \
	    build/$$v/stress -n $(STRESS_OPS) $(STRESS_THREADS) $(STRESS_ARGS) || fail="$$fail $$v"; \
	done; \
	$(STRESS_TSAN_ENV) build/ref-tsan/stress -n $(STRESS_TSAN_OPS) $(STRESS_THREADS) \
	    $(STRESS_ARGS) || fail="$$fail ref-tsan"; \
	if [ -n "$$fail" ]; then echo "stress: FAILED:$$fail"; exit 1; fi; \
	echo "stress: every build passed"

# A DURATION that is not a number of seconds stops soak with one line.
ifneq ($(filter soak,$(MAKECMDGOALS)),)
$(if $(shell echo '$(DURATION)' | grep -Ex '[0-9]*\.?[0-9]+' | grep -vEx '0*\.?0*'),,$(error soak: DURATION must be a number of seconds above 0 (got '$(DURATION)')))
SOAK_BAD := $(filter-out $(VARIANTS) uring $(addsuffix -tsan,$(VARIANTS) uring) $(addsuffix -asan,$(VARIANTS) uring),$(SOAK_BUILDS))
$(if $(SOAK_BAD),$(error soak: unknown build '$(firstword $(SOAK_BAD))' (valid: $(VARIANTS) uring, or any of them with -tsan or -asan)))
endif
soak:
	$(Q)$(MAKE) -s --no-print-directory $(foreach b,$(SOAK_BUILDS),build/$(b)/stress)
	$(Q)fail=""; \
	for b in $(SOAK_BUILDS); do \
	    $(STRESS_TSAN_ENV) build/$$b/stress -d $(DURATION) $(STRESS_THREADS) \
	        $(STRESS_ARGS) || fail="$$fail $$b"; \
	done; \
	if [ -n "$$fail" ]; then echo "soak: FAILED:$$fail"; exit 1; fi; \
	echo "soak: every build passed"
