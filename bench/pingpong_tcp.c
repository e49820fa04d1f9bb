/* pingpong_tcp - one client and one echo server over TCP loopback
 * (127.0.0.1, TCP_NODELAY), one thread; param = message bytes (1, 64,
 * 1024).  Figures: round trip mean / p50 / p99 / p999 in us, from a
 * histogram.  Mechanisms: M10 (deferred descriptor I/O), M11 (speculative
 * I/O and the inline budget).  The program is pingpong.h's pp_single_main.
 */
#include "pingpong.h"

int main(int argc, char **argv)
{
    static const bench_spec spec = {"pingpong_tcp", 64, 1, 65536, true};
    return pp_single_main(argc, argv, &spec, bench_tcp_pair);
}
