# bench/bench.mk - `make bench` and `make plots`, and the rules that build
# every workload of bench/ once per variant (included by the top Makefile).
#
#   make bench                     quick run (a few minutes): all workloads
#   make bench FULL=1              all sizes and thread counts, 10 runs each
#   make bench WORKLOAD=post_chain,pingpong_tcp VARIANT=ref,no-sentinel
#   make plots                     redraw the figures of results/latest
#
# Each bench/<workload>.c becomes build/<v>/bench/<workload> (timed, against
# build/<v>/libschedlab.a) and build/<v>-stats/bench/<workload> (counters).
# budget_sweep is also built for the budget-N builds (caps from BUDGET, by
# default 0,1,2,4,8,16,64).  The peers come from bench/peers/Makefile.inc.
# The driver is bench/run.sh; see bench/README.md.

-include bench/peers/Makefile.inc

BENCH_WORKLOADS := post_single post_threads post_interleaved post_concurrent \
    post_chain post_cross_thread pingpong_tcp pingpong_unix pingpong_concurrent \
    throughput_oneway throughput_twoway timer_schedule_cancel timer_fire \
    timer_concurrent fanout accept_churn starvation budget_sweep pingpong_threads
BENCH_DEPS := hyperfine gnuplot-nox libboost-dev libuv1-dev libevent-dev g++
BENCH_CFLAGS = $(CFLAGS_BASE) $(OPT) -Iref -Ibench -Ibench/peers
BENCH_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BENCH_HEADERS := $(wildcard bench/*.h) $(wildcard bench/peers/histogram.h)

# Budget caps of the sweep: BUDGET if given, else the spec's list.
BENCH_BUDGET := $(if $(BUDGET),$(BUDGET),0$(comma)1$(comma)2$(comma)4$(comma)8$(comma)16$(comma)64)
BENCH_BUDGET_VARIANTS := $(addprefix budget-,$(subst $(comma), ,$(BENCH_BUDGET)))

# What WORKLOAD= and VARIANT= select (comma lists; empty: everything).
BENCH_SEL_WORKLOADS := $(if $(WORKLOAD),$(filter $(subst $(comma), ,$(WORKLOAD)),$(BENCH_WORKLOADS)),$(BENCH_WORKLOADS))
# The io_uring scheduler (uring/) runs beside ref and the variants.
BENCH_VARIANT_LIST := $(VARIANTS) uring
BENCH_SEL_VARIANTS := $(if $(VARIANT),$(filter $(subst $(comma), ,$(VARIANT)),$(BENCH_VARIANT_LIST)),$(BENCH_VARIANT_LIST))
BENCH_SEL_BUDGETS := $(if $(filter budget_sweep,$(BENCH_SEL_WORKLOADS)),$(if $(VARIANT),$(filter $(subst $(comma), ,$(VARIANT)),$(BENCH_BUDGET_VARIANTS)),$(BENCH_BUDGET_VARIANTS)))

BENCH_PROGS := \
    $(foreach v,$(BENCH_SEL_VARIANTS),$(foreach w,$(BENCH_SEL_WORKLOADS),build/$(v)/bench/$(w) build/$(v)-stats/bench/$(w))) \
    $(foreach v,$(BENCH_SEL_BUDGETS),build/$(v)/bench/budget_sweep build/$(v)-stats/bench/budget_sweep)

# build/<b>/bench/<workload> for one build b (timed or stats).  The program
# is the same source either way; it prints counters only when the library
# it is linked with counts (sl_stats_enabled).
define bench_prog_rules
build/$(1)/bench/%: bench/%.c $(BENCH_HEADERS) ref/schedlab.h build/$(1)/libschedlab.a
	@mkdir -p $$(@D)
	@echo "  LD      $(1)/bench/$$*"
	$(Q)$(CC) $$(BENCH_CFLAGS) $$< build/$(1)/libschedlab.a -o $$@ $(LDLIBS) -lm
endef
$(foreach v,$(ALL_VARIANTS),$(eval $(call bench_prog_rules,$(v)))$(eval $(call bench_prog_rules,$(v)-stats)))

.PHONY: bench-programs deps-bench

deps-bench:
	$(Q)tools/ensure-deps $(BENCH_DEPS)
	$(Q)tools/ensure-deps $(PEERS_OPTIONAL_DEPS) || \
	    echo "bench: Tokio and the io_uring floor need$(PEERS_OPTIONAL_DEPS); without them they are noted as gaps"

# Every program the selected run needs.  Built with -k by `bench`, so one
# program that fails to build (a peer, or a workload whose API is not there
# yet) leaves a gap that run.sh reports instead of stopping everything.
bench-programs: $(BENCH_PROGS) $(PEER_BINS)

bench: deps-bench
	@echo "bench: building $(words $(BENCH_PROGS)) kit programs and the peers ($(BENCH_JOBS) jobs)"
	$(Q)$(MAKE) --no-print-directory -k -j$(BENCH_JOBS) BUDGET=$(BENCH_BUDGET) \
	    WORKLOAD='$(WORKLOAD)' VARIANT='$(VARIANT)' bench-programs || \
	    echo "bench: some programs did not build (errors above); the report lists each gap"
	$(Q)BENCH_VARIANTS='$(BENCH_VARIANT_LIST)' BENCH_BUDGET_VARIANTS='$(BENCH_BUDGET_VARIANTS)' \
	    BENCH_PEERS='$(notdir $(PEER_BINS))' FULL='$(FULL)' WORKLOAD='$(WORKLOAD)' \
	    VARIANT='$(VARIANT)' bench/run.sh

plots:
	$(Q)plots/plots.sh results/latest

# The added ideas, each against the build it changes, and tuned against
# the peers (bench/HYPOTHESES.md says how to read them).
.PHONY: hypotheses
hypotheses: deps-bench
	$(Q)bench/hypotheses.sh results/hypotheses.md
	$(Q)bench/tuned.sh results/tuned.md
