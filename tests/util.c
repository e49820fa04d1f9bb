/* util.c - implementation of the suite's helpers (see common.h). */
#include "common.h"

#include <dirent.h>
#include <time.h>
#include <unistd.h>

long test_scale(long n)
{
    const char *s = getenv("SL_TEST_SCALE");
    long div = s ? atol(s) : 1;
    if (div < 1)
        div = 1;
    return n / div > 0 ? n / div : 1;
}

int variant_is(const char *name)
{
    return strcmp(sl_variant_name(), name) == 0;
}

int backend_is_uring(void)
{
    return strncmp(sl_variant_name(), "uring", 5) == 0;
}

int count_open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            ++n;
    closedir(d);
    return n - 1; /* the DIR's own fd */
}

uint64_t elapsed_ms_since(uint64_t start_ns)
{
    return (sl_now_ns() - start_ns) / 1000000u;
}

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

sl_scheduler *new_sched(void)
{
    sl_scheduler *s = NULL;
    assert_int_equal(sl_scheduler_create(&s), 0);
    assert_non_null(s);
    return s;
}

static void finish_complete(sl_op *op)
{
    finish_op *f = (finish_op *)op;
    atomic_fetch_add(&f->ran, 1);
    sl_work_finished(f->s);
}

void finish_op_init(finish_op *f, sl_scheduler *s)
{
    sl_op_init(&f->op, finish_complete, NULL);
    f->s = s;
    atomic_init(&f->ran, 0);
}

static void count_complete(sl_op *op)
{
    count_op *c = (count_op *)op;
    atomic_fetch_add(&c->completed, 1);
    if (c->log)
        c->log[atomic_fetch_add(c->log_n, 1)] = c->id;
}

static void count_destroy(sl_op *op)
{
    atomic_fetch_add(&((count_op *)op)->destroyed, 1);
}

void count_op_init(count_op *c, int id, int *log, atomic_int *log_n)
{
    sl_op_init(&c->op, count_complete, count_destroy);
    c->id = id;
    atomic_init(&c->completed, 0);
    atomic_init(&c->destroyed, 0);
    c->log = log;
    c->log_n = log_n;
}

static void *run_thread_main(void *arg)
{
    run_thread *t = arg;
    t->result = sl_run(t->s);
    atomic_store(&t->done, true);
    return NULL;
}

void start_run_thread(run_thread *t, sl_scheduler *s)
{
    t->s = s;
    atomic_init(&t->done, false);
    t->result = 0;
    assert_int_equal(pthread_create(&t->tid, NULL, run_thread_main, t), 0);
}

void join_run_thread(run_thread *t, int ms)
{
    uint64_t start = sl_now_ns();
    while (!atomic_load(&t->done)) {
        if (elapsed_ms_since(start) > (uint64_t)ms)
            fail_msg("a thread in sl_run did not return within %d ms", ms);
        sleep_ms(1);
    }
    pthread_join(t->tid, NULL);
}
