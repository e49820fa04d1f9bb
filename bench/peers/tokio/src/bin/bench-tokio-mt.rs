//! bench-tokio-mt: the schedlab workloads on Tokio's multi_thread
//! (work-stealing) runtime; see lib.rs for the number of workers.
fn main() {
    std::process::exit(schedlab_tokio::main(schedlab_tokio::Flavor::MultiThread));
}
