use std::process::ExitCode;

fn main() -> ExitCode {
    needmap::cli::main()
}
