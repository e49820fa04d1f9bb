/* main.c - the suite's runner: registers every test of list.h and runs
 * them against the build this binary was linked with, printing the
 * build's name first so a log says which build failed.
 *
 *   build/<build>/tests [NAME-GLOB]   run all tests, or those matching */
#include "common.h"

#include <signal.h>

#define TEST(name) void name(void **state);
#include "list.h"
#undef TEST

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#define TEST(name) cmocka_unit_test(name),
#include "list.h"
#undef TEST
    };
    /* Writes to closed sockets must come back as EPIPE, never kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    printf("== schedlab suite: build %s (%s) ==\n", sl_variant_name(),
           sl_stats_enabled() ? "stats" : "timed");
    fflush(stdout);
    return cmocka_run_group_tests_name(sl_variant_name(), tests, NULL, NULL);
}
