/*
 * cli.h: the command line every peer and floor program shares, and the
 * dispatch to the program's table of workloads:
 *
 *     bench-<impl> -w WORKLOAD [-t SECONDS] [-p PARAM]
 *
 * peer_specs is the one list of the workloads and the -p each takes.  A
 * program maps them to its runners in a peer_workload table (a workload the
 * library has no version of has run == NULL and says why in `skipped`) and
 * ends main with peer_main(), which parses the command line, checks -p
 * against the workload's range, sets peer_duration_ns from -t, arms a
 * safety alarm and runs the workload.  A runner gets its table entry, so it
 * prints the workload's name from there, and one runner can serve several
 * workloads that differ in a constant (`arg`: a batch size, TCP or Unix).
 * A bad command line prints the usage (with the workloads the program has)
 * on stderr and returns 2.  peer_die() is the programs' one error exit:
 * "bench-<impl>: <what>: <strerror(errno)>".
 *
 * Header-only (static inline), valid C11 and C++20; in C++ an exception
 * that escapes a workload is printed and the status is 1.
 */
#ifndef SCHEDLAB_PEERS_CLI_H
#define SCHEDLAB_PEERS_CLI_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __cplusplus
#include <exception>
#endif

/* The programs' read buffers: the largest ping-pong message. */
#define PEER_READ_BUF_SIZE 65536

typedef struct peer_spec {
    const char *name;
    long default_param; /* 0: the workload takes no parameter */
    long min_param, max_param;
} peer_spec;

static const peer_spec peer_specs[] = {
    {"post_single", 0, 0, 0},
    {"post_interleaved", 0, 0, 0},
    {"post_chain", 1, 1, 1 << 20},
    {"post_cross_thread", 0, 0, 0},
    {"post_threads", 1, 1, 1024},
    {"post_concurrent", 1, 1, 1024},
    {"pingpong_tcp", 64, 1, PEER_READ_BUF_SIZE},
    {"pingpong_unix", 64, 1, PEER_READ_BUF_SIZE},
    {"pingpong_concurrent", 16, 1, 1024},
    {"throughput_oneway", 65536, 1, 16 << 20},
    {"throughput_twoway", 65536, 1, 16 << 20},
    {"timer_schedule_cancel", 0, 0, 0},
    {"timer_fire", 0, 0, 0},
    {"timer_concurrent", 1000, 1, 100000},
    {"fanout", 16, 1, 1024},
    {"accept_churn", 0, 0, 0},
    {"starvation", 0, 0, 0},
};

typedef struct peer_workload peer_workload;
struct peer_workload {
    const char *name; /* as in peer_specs */
    /* Runs the workload; returns main's exit status. */
    int (*run)(const peer_workload *w, long param);
    long arg;            /* for the runner: what tells its workloads apart */
    const char *skipped; /* run == NULL: why this library has no version of it */
};

/* How long each workload runs (-t), in ns; set by peer_main. */
static uint64_t peer_duration_ns = 500000000u;
/* The program's impl name ("asio", "floor", ...); set by peer_main. */
static const char *peer_impl = "peer";

static inline void peer_die(const char *what)
{
    fprintf(stderr, "bench-%s: %s: %s\n", peer_impl, what, strerror(errno));
    exit(1);
}

static inline void peer_usage(const char *prog, const peer_workload *table, size_t count)
{
    fprintf(stderr, "usage: %s -w WORKLOAD [-t SECONDS] [-p PARAM]\n  workloads:", prog);
    for (size_t i = 0; i < count; i++)
        if (table[i].run)
            fprintf(stderr, " %s", table[i].name);
    fprintf(stderr, "\n");
}

/* The whole of main: parse, then run the workload named by -w.  Returns
 * main's exit status (2 for a bad command line). */
static inline int peer_main(int argc, char **argv, const char *impl,
                            const peer_workload *table, size_t count)
{
    peer_impl = impl;
    const char *name = NULL;
    const char *param_arg = NULL;
    double seconds = 0.5;
    int opt;
    while ((opt = getopt(argc, argv, "w:t:p:")) != -1) {
        char *end;
        switch (opt) {
        case 'w':
            name = optarg;
            break;
        case 't':
            errno = 0;
            seconds = strtod(optarg, &end);
            if (errno || end == optarg || *end ||
                !(seconds > 0.0 && seconds <= 86400.0)) {
                peer_usage(argv[0], table, count);
                return 2;
            }
            break;
        case 'p':
            param_arg = optarg;
            break;
        default:
            peer_usage(argv[0], table, count);
            return 2;
        }
    }
    if (!name || optind != argc) {
        peer_usage(argv[0], table, count);
        return 2;
    }
    const peer_workload *w = NULL;
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].name, name) == 0)
            w = &table[i];
    if (!w) {
        fprintf(stderr, "%s: unknown workload '%s'\n", argv[0], name);
        peer_usage(argv[0], table, count);
        return 2;
    }
    if (!w->run) {
        fprintf(stderr, "%s: %s is not available for %s: %s\n", argv[0], name, impl,
                w->skipped);
        peer_usage(argv[0], table, count);
        return 2;
    }
    const peer_spec *sp = NULL;
    for (size_t i = 0; i < sizeof peer_specs / sizeof peer_specs[0]; i++)
        if (strcmp(peer_specs[i].name, name) == 0)
            sp = &peer_specs[i];
    if (!sp) {
        fprintf(stderr, "%s: %s is not in peer_specs (cli.h)\n", argv[0], name);
        return 2;
    }
    long param = sp->default_param;
    if (param_arg && sp->default_param) {
        char *end;
        errno = 0;
        param = strtol(param_arg, &end, 10);
        if (errno || end == param_arg || *end || param < sp->min_param ||
            param > sp->max_param) {
            fprintf(stderr, "%s: %s takes -p in [%ld, %ld]\n", argv[0], name,
                    sp->min_param, sp->max_param);
            peer_usage(argv[0], table, count);
            return 2;
        }
    }
    peer_duration_ns = (uint64_t)(seconds * 1e9);
    /* Safety net: a run that stalls (a lost wake-up, a stuck socket) is killed. */
    alarm((unsigned)seconds + 30u);
#ifdef __cplusplus
    try {
        return w->run(w, param);
    } catch (const std::exception &e) {
        fprintf(stderr, "%s: %s\n", argv[0], e.what());
        return 1;
    }
#else
    return w->run(w, param);
#endif
}

#endif /* SCHEDLAB_PEERS_CLI_H */
