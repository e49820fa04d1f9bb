# trace/trace.mk - `make trace`: record LTTng-UST traces of a workload, then
# analyse and check them.  Included by the top Makefile (-include).
#
#   make trace                        starvation on ref and no-sentinel
#   make trace WORKLOAD=pingpong VARIANT=ref
#   make trace TRACE_ARGS="-d 1 -t 4" extra arguments for the workload
#
# Per variant: build/<variant>-trace/sl_tp.o (the provider), and
# build/<variant>-trace/workloads (trace/workloads.c against that build's
# libschedlab.a); trace/record.sh writes traces/<variant>-<workload>-<time>/,
# trace/analyze.py results/trace/<same name>/ (TSV, SVG, PNG), and
# trace/check.py prints one line per check.  Fails if a check's outcome is
# not the one expected for the variant, or if events were discarded.

TRACE_WORKLOAD := $(or $(WORKLOAD),starvation)
TRACE_VARIANTS := $(or $(VARIANT),ref no-sentinel)
TRACE_ARGS ?=
TRACE_PYTHON := /usr/bin/python3
TRACE_DEPS := liblttng-ust-dev lttng-tools babeltrace2 python3-bt2 \
              libxml2-utils gnuplot-nox

# A workload or variant make trace does not know stops it with one line.
TRACE_KNOWN_WORKLOADS := starvation pingpong
ifneq ($(filter trace,$(MAKECMDGOALS)),)
$(if $(filter-out $(TRACE_KNOWN_WORKLOADS),$(TRACE_WORKLOAD)),$(error trace: unknown workload '$(TRACE_WORKLOAD)' (valid: $(TRACE_KNOWN_WORKLOADS))))
TRACE_BAD_VARIANTS := $(filter-out $(ALL_VARIANTS) uring,$(subst $(comma), ,$(TRACE_VARIANTS)))
$(if $(TRACE_BAD_VARIANTS),$(error trace: unknown variant '$(firstword $(TRACE_BAD_VARIANTS))' (valid: $(strip $(ALL_VARIANTS)) uring)))
endif

.PHONY: trace deps-trace trace-workloads
# Made by pattern rules, so intermediate to make: keep them.
.PRECIOUS: build/%-trace/sl_tp.o build/%-trace/workloads

deps-trace:
	$(Q)tools/ensure-deps gcc make $(TRACE_DEPS)

# The one translation unit that creates the probes; -Itrace lets
# lttng/tracepoint-event.h re-include sl_tp.h by its bare name.
build/%-trace/sl_tp.o: trace/sl_tp.c trace/sl_tp.h | build/%-trace/.dir
	@echo "  CC      $*-trace/sl_tp.o"
	$(Q)$(CC) $(call build_cflags,$*-trace) -Itrace -c $< -o $@

build/%-trace/workloads: trace/workloads.c build/%-trace/sl_tp.o build/%-trace/libschedlab.a
	@echo "  LD      $*-trace/workloads"
	$(Q)$(CC) $(call build_cflags,$*-trace) -Iref trace/workloads.c \
	    build/$*-trace/sl_tp.o build/$*-trace/libschedlab.a -o $@ \
	    $(LDLIBS) -llttng-ust -ldl

trace-workloads:
	$(Q)$(MAKE) --no-print-directory $(foreach v,$(subst $(comma), ,$(TRACE_VARIANTS)),build/$(v)-trace/workloads)

trace: deps-trace
	$(Q)$(MAKE) --no-print-directory trace-workloads
	$(Q)failed=""; \
	for v in $(subst $(comma), ,$(TRACE_VARIANTS)); do \
	    dir=traces/$$v-$(TRACE_WORKLOAD)-$$(date +%Y%m%d-%H%M%S); \
	    echo "== trace: $(TRACE_WORKLOAD) on $$v"; \
	    trace/record.sh -o $$dir -v $$v -w $(TRACE_WORKLOAD) -- \
	        build/$$v-trace/workloads $(TRACE_WORKLOAD) $(TRACE_ARGS) || \
	        { failed="$$failed $$v"; continue; }; \
	    $(TRACE_PYTHON) trace/analyze.py $$dir || failed="$$failed $$v"; \
	    $(TRACE_PYTHON) trace/check.py $$dir || failed="$$failed $$v"; \
	done; \
	if [ -n "$$failed" ]; then echo "trace: failed for:$$failed"; exit 1; fi
