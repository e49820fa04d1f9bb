# bench/bench.mk - `make bench`, `make compare`, `make compare-runs` and
# `make plots`, and the rules that build every workload of bench/ once per
# variant (included by the top Makefile).
#
#   make bench                     quick run (under 10 minutes on 2 cores)
#   make bench FULL=1              all sizes and thread counts, more rounds
#   make bench WORKLOAD=post_chain,pingpong_tcp VARIANT=ref,no-sentinel
#   make bench SEED=12345          replay the trial order of an earlier run
#   make compare A=ref B=no-sentinel WORKLOAD=post_chain PARAM=16
#   make compare-runs [OLD=results/<ts> NEW=results/<ts>]   (default: the last two)
#   make plots                     redraw the figures of results/latest
#
# Each bench/<workload>.c becomes build/<v>/bench/<workload> (timed, against
# build/<v>/libschedlab.a) and build/<v>-stats/bench/<workload> (counters).
# budget_sweep is also built for the budget-N builds (caps from BUDGET, by
# default 0,1,2,4,8,16,64).  ref-aa, the A/A control, is ref built again
# under its own name (the Makefile's variant_flags: same source, no variant
# file, SL_VARIANT="ref-aa"); it is a bench build only, not in the suite.
# `make compare A=x` builds x-aa the same way.  The peers come from
# bench/peers/Makefile.inc; which peer runs which workload is
# bench/peers.conf.  The driver is bench/run.sh; see bench/README.md.

-include bench/peers/Makefile.inc

BENCH_WORKLOADS := post_single post_threads post_interleaved post_concurrent \
    post_chain post_cross_thread pingpong_tcp pingpong_unix pingpong_concurrent \
    throughput_oneway throughput_twoway timer_schedule_cancel timer_fire \
    timer_concurrent fanout accept_churn starvation budget_sweep pingpong_threads
BENCH_DEPS := hyperfine jq gnuplot-nox libboost-dev libuv1-dev libevent-dev g++
BENCH_CFLAGS = $(CFLAGS_BASE) $(OPT) -Iref -Ibench -Ibench/peers
BENCH_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BENCH_HEADERS := $(wildcard bench/*.h) $(wildcard bench/peers/histogram.h)

# Budget caps of the sweep: BUDGET if given, else the spec's list.
BENCH_BUDGET := $(if $(BUDGET),$(BUDGET),0$(comma)1$(comma)2$(comma)4$(comma)8$(comma)16$(comma)64)
BENCH_BUDGET_VARIANTS := $(addprefix budget-,$(subst $(comma), ,$(BENCH_BUDGET)))

# What WORKLOAD= and VARIANT= select (comma lists; empty: everything).
BENCH_SEL_WORKLOADS := $(if $(WORKLOAD),$(filter $(subst $(comma), ,$(WORKLOAD)),$(BENCH_WORKLOADS)),$(BENCH_WORKLOADS))
# The io_uring scheduler (uring/) runs beside ref and the variants.  Quick
# mode's rounds hold the ablations and uring; the added ideas (the rest of
# VARIANTS, each with its own row in `make hypotheses`) join them with
# FULL=1, or when VARIANT= names them: all fifteen in every round would take
# quick mode far past 10 minutes on 2 cores.
BENCH_ALL_VARIANT_LIST := $(VARIANTS) uring
BENCH_QUICK_VARIANTS := ref no-inline-budget no-private-queue no-sentinel unbounded-inline uring
BENCH_VARIANT_LIST := $(if $(filter-out 0,$(FULL))$(VARIANT),$(BENCH_ALL_VARIANT_LIST),$(BENCH_QUICK_VARIANTS))
BENCH_SEL_VARIANTS := $(if $(VARIANT),$(filter $(subst $(comma), ,$(VARIANT)),$(BENCH_VARIANT_LIST)),$(BENCH_VARIANT_LIST))
BENCH_SEL_BUDGETS := $(if $(filter budget_sweep,$(BENCH_SEL_WORKLOADS)),$(if $(VARIANT),$(filter $(subst $(comma), ,$(VARIANT)),$(BENCH_BUDGET_VARIANTS)),$(BENCH_BUDGET_VARIANTS)))

# The peers and floors of bench/peers/Makefile.inc, by the names PEERS= takes.
BENCH_PEER_NAMES := $(patsubst bench-%,%,$(notdir $(PEER_BINS)))
BENCH_SEL_PEER_BINS := $(if $(filter none,$(PEERS)),,$(if $(PEERS),$(addprefix $(PEERS_OUT)/bench-,$(filter $(subst $(comma), ,$(PEERS)),$(BENCH_PEER_NAMES))),$(PEER_BINS)))

# make bench: a name VARIANT=, WORKLOAD= or PEERS= does not know stops it
# before anything is built, with one line listing what is valid.
ifneq ($(filter bench,$(MAKECMDGOALS)),)
BENCH_BAD_VARIANTS := $(filter-out $(BENCH_ALL_VARIANT_LIST) $(BENCH_BUDGET_VARIANTS) ref-aa,$(subst $(comma), ,$(VARIANT)))
$(if $(BENCH_BAD_VARIANTS),$(error bench: unknown variant '$(firstword $(BENCH_BAD_VARIANTS))' (valid: $(BENCH_ALL_VARIANT_LIST), budget-N for N in BUDGET=$(BENCH_BUDGET))))
BENCH_BAD_WORKLOADS := $(filter-out $(BENCH_WORKLOADS),$(subst $(comma), ,$(WORKLOAD)))
$(if $(BENCH_BAD_WORKLOADS),$(error bench: unknown workload '$(firstword $(BENCH_BAD_WORKLOADS))' (valid: $(BENCH_WORKLOADS))))
BENCH_BAD_PEERS := $(filter-out none $(BENCH_PEER_NAMES),$(subst $(comma), ,$(PEERS)))
$(if $(BENCH_BAD_PEERS),$(error bench: unknown peer '$(firstword $(BENCH_BAD_PEERS))' (valid: none $(BENCH_PEER_NAMES))))
$(if $(ROUNDS),$(if $(shell echo '$(ROUNDS)' | grep -Ex '[0-9]+' | awk '$$1 >= 2'),,$(error bench: ROUNDS must be a whole number of at least 2 (got '$(ROUNDS)'))))
$(if $(BENCH_T),$(if $(shell echo '$(BENCH_T)' | grep -Ex '[0-9]*\.?[0-9]+' | awk '$$1 >= 0.01 && $$1 <= 600'),,$(error bench: BENCH_T must be seconds from 0.01 to 600 (got '$(BENCH_T)'))))
$(if $(SEED),$(if $(shell echo '$(SEED)' | grep -Ex '[0-9]+'),,$(error bench: SEED must be a non-negative integer (got '$(SEED)'))))
$(if $(PARAM),$(if $(shell echo '$(PARAM)' | grep -Ex '[0-9]+(,[0-9]+)*'),,$(error bench: PARAM must be whole numbers, comma-separated (got '$(PARAM)'))))
$(if $(BUDGET),$(if $(shell echo '$(BUDGET)' | grep -Ex '[0-9]+(,[0-9]+)*'),,$(error bench: BUDGET must be caps (whole numbers), comma-separated (got '$(BUDGET)'))))
endif

# The A/A control of every run, and the A/A twins make compare may build.
BENCH_AA := ref-aa
AA_BUILDS := $(addsuffix -aa,$(ALL_VARIANTS))
$(foreach k,$(AA_BUILDS) $(addsuffix -stats,$(AA_BUILDS)),$(eval $(call build_rules,$(k))))

BENCH_PROGS := \
    $(foreach v,$(BENCH_SEL_VARIANTS) $(BENCH_AA),$(foreach w,$(BENCH_SEL_WORKLOADS),build/$(v)/bench/$(w) build/$(v)-stats/bench/$(w))) \
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
$(foreach v,$(ALL_VARIANTS) $(AA_BUILDS),$(eval $(call bench_prog_rules,$(v)))$(eval $(call bench_prog_rules,$(v)-stats)))

.PHONY: bench-programs deps-bench compare compare-runs

deps-bench:
	$(Q)tools/ensure-deps $(BENCH_DEPS)
	$(Q)tools/ensure-deps $(PEERS_OPTIONAL_DEPS) || \
	    echo "bench: Tokio and the io_uring floor need$(PEERS_OPTIONAL_DEPS); without them they are noted as gaps"

# Every program the selected run needs.  Built with -k by `bench`, so one
# program that fails to build (a peer, or a workload whose API is not there
# yet) leaves a gap that run.sh reports instead of stopping everything.
bench-programs: $(BENCH_PROGS) $(BENCH_SEL_PEER_BINS)

bench: deps-bench
	@echo "bench: building $(words $(BENCH_PROGS)) kit programs and the peers ($(BENCH_JOBS) jobs)"
	$(Q)$(MAKE) --no-print-directory -k -j$(BENCH_JOBS) BUDGET=$(BENCH_BUDGET) \
	    WORKLOAD='$(WORKLOAD)' VARIANT='$(VARIANT)' bench-programs || \
	    echo "bench: some programs did not build (errors above); the report lists each gap"
	$(Q)BENCH_VARIANTS='$(BENCH_VARIANT_LIST)' BENCH_BUDGET_VARIANTS='$(BENCH_BUDGET_VARIANTS)' \
	    FULL='$(FULL)' WORKLOAD='$(WORKLOAD)' \
	    VARIANT='$(VARIANT)' bench/run.sh

# Two builds head to head on one workload (bench/compare checks the input
# and builds what it needs).  Bad input stops make with one line that says
# what is valid.
ifneq ($(filter compare,$(MAKECMDGOALS)),)
COMPARE_CHECK := $(shell ROUNDS='$(ROUNDS)' BENCH_VARIANTS='$(BENCH_ALL_VARIANT_LIST)' bench/compare --check '$(A)' '$(B)' '$(WORKLOAD)' '$(PARAM)' 2>&1)
$(if $(COMPARE_CHECK),$(error $(COMPARE_CHECK)))
endif
compare: deps-bench
	$(Q)BENCH_VARIANTS='$(BENCH_ALL_VARIANT_LIST)' bench/compare '$(A)' '$(B)' '$(WORKLOAD)' '$(PARAM)'

compare-runs:
	$(Q)bench/compare-runs $(OLD) $(NEW)

plots:
	$(Q)plots/plots.sh results/latest

# The added ideas, each against the build it changes, and tuned against
# the peers (bench/HYPOTHESES.md says how to read them).
.PHONY: hypotheses
hypotheses: deps-bench
	$(Q)bench/hypotheses.sh results/hypotheses.md
	$(Q)bench/tuned.sh results/tuned.md

# Instructions per handler (callgrind), which load does not move: the
# builds of VARIANT (default ref), and with REV= the same at that revision.
#   make instructions VARIANT=ref,no-private-queue REV=27694d2
.PHONY: instructions
instructions:
	$(Q)bench/instructions.sh $(if $(REV),-r '$(REV)') $(subst $(comma), ,$(VARIANT))
