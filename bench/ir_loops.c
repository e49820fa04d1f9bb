/* bench/ir_loops.c - three loops whose instruction count per handler
 * bench/instructions.sh reads under valgrind's callgrind (Ir: instructions
 * executed).  An instruction count does not move with the machine's load,
 * so it shows a hot-path change that a timing on a shared 2-core machine
 * cannot: a lock pair, a compare, a store.
 *
 *   ir_loops LOOP N
 *     run_one  N times: post one op from outside (the shared queue), then
 *              sl_run_one, sl_restart (a loop driven one handler per call)
 *     poll64   N/64 times: post 64 ops from outside, then sl_poll,
 *              sl_restart (the bench's post workloads)
 *     chain    one chain of N handlers, each posting the next from inside
 *              the run (the private queue, M8), under one sl_run
 *
 * Only the public API of schedlab.h, unchanged since the first landing,
 * so that a build of an earlier revision runs the same loops.  Prints the
 * number of handlers run; exits 1 if the scheduler cannot be created or
 * the loop is unknown. */
#include "schedlab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sl_scheduler *sched;
static long ran, chain_left;
static sl_op ops[64];

static void count(sl_op *op)
{
    (void)op;
    ++ran;
}

static void chain_step(sl_op *op)
{
    ++ran;
    if (--chain_left > 0)
        sl_post(sched, op);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s run_one|poll64|chain N\n", argv[0]);
        return 1;
    }
    long n = atol(argv[2]);
    if (sl_scheduler_create(&sched) != 0) {
        fprintf(stderr, "ir_loops: sl_scheduler_create failed\n");
        return 1;
    }
    for (int i = 0; i < 64; ++i)
        sl_op_init(&ops[i], count, NULL);
    if (strcmp(argv[1], "run_one") == 0) {
        for (long i = 0; i < n; ++i) {
            sl_post(sched, &ops[0]);
            sl_run_one(sched);
            sl_restart(sched);
        }
    } else if (strcmp(argv[1], "poll64") == 0) {
        for (long i = 0; i < n / 64; ++i) {
            for (int k = 0; k < 64; ++k)
                sl_post(sched, &ops[k]);
            sl_poll(sched);
            sl_restart(sched);
        }
    } else if (strcmp(argv[1], "chain") == 0) {
        chain_left = n;
        sl_op_init(&ops[0], chain_step, NULL);
        sl_post(sched, &ops[0]);
        sl_run(sched);
    } else {
        fprintf(stderr, "ir_loops: unknown loop '%s' (run_one, poll64, chain)\n", argv[1]);
        sl_scheduler_destroy(sched);
        return 1;
    }
    sl_scheduler_destroy(sched);
    printf("%ld\n", ran);
    return 0;
}
