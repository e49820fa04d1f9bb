//! bench-tokio-ct: the schedlab workloads on Tokio's current_thread runtime
//! (one thread runs every task and the I/O and time drivers); see lib.rs.
fn main() {
    std::process::exit(schedlab_tokio::main(schedlab_tokio::Flavor::CurrentThread));
}
