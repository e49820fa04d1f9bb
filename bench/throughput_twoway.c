/* throughput_twoway - one TCP loopback connection, one thread, both ends
 * writing and reading at once: each end writes one chunk of param bytes
 * (1024 ... 65536) and then the next, and reads into 64 KiB.  Figure:
 * bytes per second received, both directions together.  An op is one
 * chunk's worth of bytes.  Mechanism: M11, and M10 with reads and writes
 * pending on the same descriptor.  The program is stream.h's
 * stream_throughput_main.
 */
#include "stream.h"

int main(int argc, char **argv)
{
    static const bench_spec spec = {"throughput_twoway", 65536, 1, 16 << 20, true};
    return stream_throughput_main(argc, argv, &spec, 2);
}
