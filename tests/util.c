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

/* The run threads started and not yet joined.  A test that fails leaves
 * by cmocka's longjmp, its frame (and the run_thread in it) gone: the
 * thread writes only to its slot here. */
enum { MAX_RUN_THREADS = 32 };
static struct run_slot {
    pthread_t tid;
    sl_scheduler *s;
    atomic_bool used, done;
    size_t result;
} run_slots[MAX_RUN_THREADS];

static void *run_thread_main(void *arg)
{
    struct run_slot *slot = arg;
    slot->result = sl_run(slot->s);
    atomic_store(&slot->done, true);
    return NULL;
}

void start_run_thread(run_thread *t, sl_scheduler *s)
{
    int i = 0;
    while (i < MAX_RUN_THREADS && atomic_load(&run_slots[i].used))
        ++i;
    assert_true(i < MAX_RUN_THREADS);
    struct run_slot *slot = &run_slots[i];
    slot->s = s;
    slot->result = 0;
    atomic_store(&slot->done, false);
    atomic_store(&slot->used, true);
    t->s = s;
    t->slot = i;
    t->result = 0;
    assert_int_equal(pthread_create(&slot->tid, NULL, run_thread_main, slot), 0);
    t->tid = slot->tid;
}

bool run_thread_returned(const run_thread *t)
{
    return atomic_load(&run_slots[t->slot].done);
}

void join_run_thread(run_thread *t, int ms)
{
    struct run_slot *slot = &run_slots[t->slot];
    uint64_t start = sl_now_ns();
    while (!atomic_load(&slot->done)) {
        if (elapsed_ms_since(start) > (uint64_t)ms)
            fail_msg("a thread in sl_run did not return within %d ms", ms);
        sleep_ms(1);
    }
    pthread_join(slot->tid, NULL);
    t->result = slot->result;
    atomic_store(&slot->used, false);
}

int reap_run_threads(void)
{
    int rc = 0;
    for (int i = 0; i < MAX_RUN_THREADS; ++i) {
        struct run_slot *slot = &run_slots[i];
        if (!atomic_load(&slot->used))
            continue;
        sl_stop(slot->s);
        uint64_t start = sl_now_ns();
        while (!atomic_load(&slot->done) && elapsed_ms_since(start) < 5000)
            sleep_ms(1);
        if (!atomic_load(&slot->done)) {
            fprintf(stderr, "schedlab: a run thread of the failed test did not stop "
                            "within 5 s of sl_stop; the suite stops here\n");
            rc = -1;
            continue;
        }
        pthread_join(slot->tid, NULL);
        atomic_store(&slot->used, false);
    }
    return rc;
}
