fn main() -> std::process::ExitCode {
    roleplane::cli::main()
}
