// Records the target triple for `hagw version`.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=HAGW_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
