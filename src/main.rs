fn main() -> std::process::ExitCode {
    ecsim::cli::main()
}
