/* test_trace.c - the tracing kit (trace/): the Trace Compass analysis is
 * well-formed XML, and valid against Trace Compass's schemas (shipped in
 * trace/tracecompass-xsd, EPL-2.0); in a trace build, with
 * SL_TRACE_CHECK=1 set by the runner, a short starvation run is recorded
 * with trace/record.sh and trace/check.py must find the outcomes expected
 * for this variant.  The tools run as child processes from the
 * repository's root. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Defined by trace/sl_tp.c, which only trace builds link: the weak
 * reference is NULL everywhere else. */
extern int sl_trace_build(void) __attribute__((weak));

static bool is_trace_build(void)
{
    return sl_trace_build != NULL && sl_trace_build() == 1;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The repository's root: the working directory when the runner starts
 * there (tools/run-suites does), else two levels above build/<b>/tests. */
static const char *repo_root(void)
{
    static char root[PATH_MAX];
    if (root[0])
        return root;
    if (is_file("trace/schedlab-analysis.xml") && getcwd(root, sizeof root))
        return root;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        for (int up = 0; up < 3; ++up) {
            char *slash = strrchr(exe, '/');
            if (!slash)
                break;
            *slash = '\0';
        }
        char probe[PATH_MAX + 64];
        snprintf(probe, sizeof probe, "%s/trace/schedlab-analysis.xml", exe);
        if (is_file(probe)) {
            snprintf(root, sizeof root, "%s", exe);
            return root;
        }
    }
    root[0] = '\0';
    return NULL;
}

static bool have_program(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        int len = (int)strcspn(path, ":");
        char candidate[2 * PATH_MAX];
        if (len > 0 && len < PATH_MAX) {
            snprintf(candidate, sizeof candidate, "%.*s/%s", len, path, name);
            if (access(candidate, X_OK) == 0)
                return true;
        }
        path += len;
        if (*path == ':')
            ++path;
    }
    return false;
}

/* Runs argv in `dir` with stdout and stderr into `out` (truncated to
 * `cap`); returns the exit status, 127 if it could not be started, or
 * 128 + signal. */
static int run_command(const char *dir, char *const argv[], char *out, size_t cap)
{
    int fds[2];
    if (pipe(fds) != 0)
        return 127;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return 127;
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        if (dir && chdir(dir) != 0)
            _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    char sink[4096];
    for (;;) {
        char *to = used + 1 < cap ? out + used : sink;
        size_t room = used + 1 < cap ? cap - used - 1 : sizeof sink;
        ssize_t r = read(fds[0], to, room);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (to != sink)
            used += (size_t)r;
    }
    out[used] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 127;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 127;
}

/* Fails the test with the command's output unless it exited 0. */
#define EXPECT_SUCCESS(rc, what, out)                                                    \
    do {                                                                                 \
        if ((rc) != 0)                                                                   \
            fail_msg("%s exited %d:\n%s", (what), (rc), (out));                          \
    } while (0)

static void analysis_path(char *buf, size_t cap)
{
    const char *root = repo_root();
    if (!root)
        fail_msg("cannot find the repository (trace/schedlab-analysis.xml)");
    snprintf(buf, cap, "%s/trace/schedlab-analysis.xml", root);
}

void trace_analysis_xml_well_formed(void **state)
{
    (void)state;
    char xml[PATH_MAX + 64], out[8192];
    analysis_path(xml, sizeof xml);
    assert_true(is_file(xml));
    if (have_program("xmllint")) {
        char *argv[] = {"xmllint", "--noout", xml, NULL};
        EXPECT_SUCCESS(run_command(NULL, argv, out, sizeof out), "xmllint --noout", out);
    } else if (have_program("python3")) {
        /* No libxml2-utils: Python's parser checks well-formedness too. */
        char *argv[] = {"python3", "-c",
                        "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])", xml,
                        NULL};
        EXPECT_SUCCESS(run_command(NULL, argv, out, sizeof out),
                       "python3 xml.dom.minidom", out);
    } else {
        print_message("neither xmllint nor python3 to parse the XML\n");
        skip();
    }
}

void trace_analysis_xml_matches_schema(void **state)
{
    (void)state;
    char xml[PATH_MAX + 64], xsd[PATH_MAX + 64], out[8192];
    analysis_path(xml, sizeof xml);
    snprintf(xsd, sizeof xsd, "%s/trace/tracecompass-xsd/xmlDefinition.xsd", repo_root());
    assert_true(is_file(xsd)); /* shipped with the kit (EPL-2.0, see its README) */
    if (!have_program("xmllint")) {
        print_message("xmllint missing (libxml2-utils): schema not checked\n");
        skip();
    }
    char *argv[] = {"xmllint", "--noout", "--schema", xsd, xml, NULL};
    EXPECT_SUCCESS(run_command(NULL, argv, out, sizeof out), "xmllint --schema", out);
}

void trace_starvation_run_passes_checks(void **state)
{
    (void)state;
    if (!is_trace_build())
        skip(); /* only build/<variant>-trace/tests carries tracepoints */
    const char *want = getenv("SL_TRACE_CHECK");
    if (!want || strcmp(want, "1") != 0) {
        print_message("trace build: set SL_TRACE_CHECK=1 to record a run "
                      "(needs lttng-tools and python3-bt2)\n");
        skip();
    }
    const char *root = repo_root();
    assert_non_null(root);
    const char *variant = sl_variant_name();
    static char out[1 << 16];

    /* The workload is built next to this binary (trace/trace.mk). */
    char workload[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", workload, sizeof workload - 16);
    assert_true(n > 0);
    workload[n] = '\0';
    *strrchr(workload, '/') = '\0';
    strcat(workload, "/workloads");
    if (!is_file(workload)) {
        char target[PATH_MAX];
        snprintf(target, sizeof target, "build/%s-trace/workloads", variant);
        char *argv[] = {"make", "--no-print-directory", "-s", target, NULL};
        EXPECT_SUCCESS(run_command(root, argv, out, sizeof out), "make", out);
        assert_true(is_file(workload));
    }

    char dir[] = "/tmp/schedlab-trace-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    /* A 0.1 s storm of 10 us handlers: ~20k handlers, a few seconds to
     * record and check. */
    char *record[] = {
        "timeout",       "120", "trace/record.sh", "-q", "-o",     dir,          "-v",
        (char *)variant, "-w",  "starvation",      "--", workload, "starvation", "-d",
        "0.1",           "-s",  "10000",           NULL};
    int rc =
        run_command(root, have_program("timeout") ? record : record + 2, out, sizeof out);
    if (rc != 0) {
        char *rm[] = {"rm", "-rf", dir, NULL};
        char ignored[256];
        run_command(NULL, rm, ignored, sizeof ignored);
        fail_msg("trace/record.sh exited %d:\n%s", rc, out);
    }
    char *check[] = {"timeout", "120",       "/usr/bin/python3", "trace/check.py",
                     dir,       "--variant", (char *)variant,    NULL};
    rc = run_command(root, have_program("timeout") ? check : check + 2, out, sizeof out);
    char *rm[] = {"rm", "-rf", dir, NULL};
    char ignored[256];
    run_command(NULL, rm, ignored, sizeof ignored);
    EXPECT_SUCCESS(rc, "trace/check.py", out);

    /* check.py already compares each outcome with the variant's; say which
     * one this test relies on, so a change there cannot pass silently. */
    /* event-interval and tuned poll the reactor every N handlers, not
     * once per pass: the storm still does not starve it. */
    bool interval = variant_is("event-interval") || variant_is("tuned");
    const char *expected = variant_is("no-sentinel") || backend_is_uring()
                               ? "PASS storm_starves_reactor: holds"
                           : interval ? "PASS reactor_each_pass: fails, as expected"
                                      : "PASS reactor_each_pass: holds";
    if (!strstr(out, expected))
        fail_msg("expected \"%s\" for %s in:\n%s", expected, variant, out);
    if (!strstr(out, "PASS handler_pairs: holds") ||
        !strstr(out, "PASS reactor_exclusive: holds") ||
        !strstr(out, "PASS no_discarded_events: holds"))
        fail_msg("a property every build keeps failed:\n%s", out);
}
