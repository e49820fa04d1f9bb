/* main.c - the suite's runner: registers every test of list.h and runs
 * them against the build this binary was linked with, printing the
 * build's name first so a log says which build failed.
 *
 *   build/<build>/tests [NAME-GLOB[,NAME-GLOB...]]   run all tests, or
 *                                   those matching any of the globs
 *
 * A watchdog thread fails a test that runs longer than SL_TEST_TIMEOUT
 * seconds (default 120): it names the test, prints every thread's stack
 * (with gdb, when installed) and exits non-zero, so a lost wake-up shows
 * up as a failure that says where the threads are stuck. */
#include "common.h"

#include <fnmatch.h>
#include <signal.h>
#include <unistd.h>

#define TEST(name) void name(void **state);
#include "list.h"
#undef TEST

static const char *_Atomic current_test;
static _Atomic uint64_t current_start_ns;

static void watch_begin(const char *name)
{
    atomic_store(&current_start_ns, sl_now_ns());
    atomic_store(&current_test, name);
}

/* The teardown of every test: a test that failed with a run thread still
 * in sl_run would leave it running into the next test; it is stopped and
 * joined here, and if it cannot be, the suite stops rather than report
 * results a stray thread may have changed. */
static int watch_end(void **state)
{
    (void)state;
    if (reap_run_threads() != 0) {
        fflush(stdout);
        _exit(1);
    }
    atomic_store(&current_test, NULL);
    return 0;
}

#define TEST(name)                                                                       \
    static int watch_##name(void **state)                                                \
    {                                                                                    \
        (void)state;                                                                     \
        watch_begin(#name);                                                              \
        return 0;                                                                        \
    }
#include "list.h"
#undef TEST

/* The single-threaded variant promises that one thread runs the scheduler
 * and nothing posts from another, and refuses the resolver: the tests
 * that need otherwise skip there, saying why. */
static const struct {
    const char *name, *reason;
} SINGLE_THREAD_SKIPS[] = {
    {"core_stop_wakes_condvar_waiter_and_reactor", "runs the scheduler on 2 threads"},
    {"core_stop_wakes_thread_blocked_in_reactor", "stops from another thread"},
    {"core_cross_thread_post_wakes_blocked_thread", "posts from another thread"},
    {"core_work_started_keeps_run_alive", "finishes work from another thread"},
    {"core_four_threads_million_posts_exactly_once", "runs the scheduler on 4 threads"},
    {"core_post_wakes_condvar_waiter_and_cascades", "runs the scheduler on 3 threads"},
    {"contract_work_posted_from_run_one_is_handed_on", "runs the scheduler on 2 threads"},
    {"contract_sentinel_handed_on_after_timed_reactor_pass", "runs the scheduler on 2 threads"},
    {"contract_close_during_descriptor_run_spares_new_socket", "runs the scheduler on 2 threads"},
    {"fault_new_socket_ready_before_registration_keeps_work", "runs the scheduler on another thread"},
    {"fault_epoll_wait_real_eintr_while_blocked", "runs the scheduler on another thread"},
    {"fault_eventfd_write_failure_next_interrupt_wakes_reactor", "posts from another thread"},
    {"fault_timerfd_settime_failure_timer_still_fires", "runs the scheduler on another thread"},
    {"property_same_thread_posts", "needs a second thread in the reactor"},
    {"property_budget_doubles_when_fully_spent_e2e", "needs a second thread in the reactor"},
    {"signal_wait_completes_while_two_threads_run", "runs the scheduler on 2 threads"},
    {"socket_200_sockets_driven_by_2_threads", "runs the scheduler on 2 threads"},
    {"socket_transfer_64mib_both_ways_tcp_checksummed", "runs the scheduler on 2 threads"},
    {"timer_new_earliest_interrupts_blocked_reactor", "starts a timer from another thread"},
    {"trace_starvation_run_passes_checks", "the traced workload runs the scheduler on 3 threads"},
    {"resolver_", "the resolver is refused (-ENOTSUP): its helper threads post"},
    {"timer_wait_counted_before_it_is_visible", "waits on a timer from another thread"},
    {"timer_fast_paths_after_expiry_on_another_thread", "runs the scheduler on another thread"},
    {"socket_cancel_reaches_read_not_yet_parked", "cancels from another thread"},
    {"socket_cancelled_read_keeps_cancelled_status_over_error", "runs the scheduler on another thread"},
    {"socket_data_arriving_while_read_parks_is_not_lost", "runs the scheduler on another thread"},
    {"contract_cancel_during_start_does_no_io", "runs the scheduler on another thread"},
    {"contract_wait_one_huge_timeouts", "posts from another thread"},
};

static bool skipped_single_threaded(const char *name)
{
    if (!variant_is("single-threaded"))
        return false;
    for (size_t i = 0; i < sizeof SINGLE_THREAD_SKIPS / sizeof *SINGLE_THREAD_SKIPS; ++i) {
        const char *n = SINGLE_THREAD_SKIPS[i].name;
        if (strncmp(name, n, strlen(n)) == 0) {
            printf("  skip %s on single-threaded: %s\n", name, SINGLE_THREAD_SKIPS[i].reason);
            fflush(stdout);
            return true;
        }
    }
    return false;
}

#define TEST(name)                                                                       \
    static void run_##name(void **state)                                                 \
    {                                                                                    \
        if (skipped_single_threaded(#name))                                              \
            skip();                                                                      \
        name(state);                                                                     \
    }
#include "list.h"
#undef TEST

static void *watchdog(void *arg)
{
    long limit = *(long *)arg;
    for (;;) {
        sleep(1);
        const char *name = atomic_load(&current_test);
        if (!name)
            continue;
        uint64_t secs = (sl_now_ns() - atomic_load(&current_start_ns)) / 1000000000u;
        if (secs < (uint64_t)limit || atomic_load(&current_test) != name)
            continue;
        fprintf(stderr,
                "\nschedlab: test %s still running after %ld s: hung; thread stacks:\n",
                name, limit);
        char cmd[160];
        snprintf(
            cmd, sizeof cmd,
            "command -v gdb >/dev/null && gdb -p %d -batch -ex 'thread apply all bt 20' "
            "2>/dev/null | grep -E '^(Thread|#)' >&2",
            (int)getpid());
        int r = system(cmd);
        (void)r;
        fprintf(stderr, "schedlab: %s FAILED (timeout)\n", name);
        _exit(124);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#define TEST(name) {#name, run_##name, watch_##name, watch_end, NULL},
#include "list.h"
#undef TEST
    };
    /* Writes to closed sockets must come back as EPIPE, never kill us. */
    signal(SIGPIPE, SIG_IGN);
    static long limit;
    const char *t = getenv("SL_TEST_TIMEOUT");
    limit = t && atol(t) > 0 ? atol(t) : 120;
    pthread_t wd;
    pthread_create(&wd, NULL, watchdog, &limit);
    pthread_detach(wd);
    /* Several globs: keep the tests that match any of them. */
    static struct CMUnitTest chosen[sizeof tests / sizeof *tests];
    size_t n = sizeof tests / sizeof *tests;
    const struct CMUnitTest *run = tests;
    if (argc > 1 && strchr(argv[1], ',')) {
        size_t k = 0;
        for (size_t i = 0; i < n; ++i) {
            char globs[1024];
            snprintf(globs, sizeof globs, "%s", argv[1]);
            for (char *save, *g = strtok_r(globs, ",", &save); g;
                 g = strtok_r(NULL, ",", &save))
                if (fnmatch(g, tests[i].name, 0) == 0) {
                    chosen[k++] = tests[i];
                    break;
                }
        }
        run = chosen;
        n = k;
    } else if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
#if defined(SL_TRACE)
    const char *kind = "trace";
#elif defined(__SANITIZE_ADDRESS__)
    const char *kind = "asan+ubsan";
#elif defined(__SANITIZE_THREAD__)
    const char *kind = "tsan";
#else
    const char *kind = sl_stats_enabled() ? "stats" : "timed";
#endif
    printf("== schedlab suite: build %s (%s) ==\n", sl_variant_name(), kind);
    fflush(stdout);
    /* The io_uring builds need a usable io_uring (kernel, sysctl
     * io_uring_disabled, seccomp): without one, one line says so. */
    if (backend_is_uring()) {
        sl_scheduler *probe;
        int r = sl_scheduler_create(&probe);
        if (r < 0) {
            printf("schedlab: suite skipped on %s: io_uring unavailable "
                   "(sl_scheduler_create: %s)\n",
                   sl_variant_name(), strerror(-r));
            return 0;
        }
        sl_scheduler_destroy(probe);
    }
    return _cmocka_run_group_tests(sl_variant_name(), run, n, NULL, NULL);
}
