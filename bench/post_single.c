/* post_single - as upstream's io_context "single_threaded" bench: batches
 * of 1000 handlers posted from outside the loop (the shared-queue path:
 * mutex, atomic work count, wake policy), then sl_poll and sl_restart.
 * Figure: handlers run per second.  Mechanism: M9 and the shared path.
 * The loop is post_batch.h's.
 */
#include "post_batch.h"

int main(int argc, char **argv)
{
    static const bench_spec spec = {"post_single", 0, 0, 0, true};
    return post_batch_main(argc, argv, &spec, 1000);
}
