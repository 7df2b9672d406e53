// mimalloc's thread-local free lists suit a server that allocates per request on every worker
// thread: +10% signed calls per second over glibc malloc (docs/BENCHMARKS.md, "Allocator").
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    roleplane::cli::main()
}
