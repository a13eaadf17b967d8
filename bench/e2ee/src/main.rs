//! The figures natively (see the library's notes).

fn main() {
    let start = std::time::Instant::now();
    let now = move || start.elapsed().as_secs_f64() * 1000.0;
    print!("{}", bench_e2ee::report("native", &bench_e2ee::measure(&now)));
}
