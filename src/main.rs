//! The `hagw` binary: all behaviour lives in the library; see `cli`.

fn main() {
    std::process::exit(hagw::cli::main());
}
