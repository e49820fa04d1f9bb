/* throughput_oneway - one TCP loopback connection, one thread: the writer
 * writes one chunk of param bytes (1024 ... 65536) and, when that is done,
 * the next; the reader reads into 64 KiB.  Figure: bytes per second
 * received.  An op is one chunk's worth of bytes.  Mechanism: M11 (the
 * inline budget ramps while reads and writes complete at once).  The
 * program is stream.h's stream_throughput_main.
 */
#include "stream.h"

int main(int argc, char **argv)
{
    static const bench_spec spec = {"throughput_oneway", 65536, 1, 16 << 20, true};
    return stream_throughput_main(argc, argv, &spec, 1);
}
