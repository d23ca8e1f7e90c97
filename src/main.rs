//! The `timewait` command.

use std::process::ExitCode;

fn main() -> ExitCode {
    timewait::cli::main()
}
