//! Splitting the compiled app at its lazily loaded functions.

use crate::Error;
use std::path::Path;

/// The loader of the parts, as the app's WebAssembly imports it (the name
/// `naming` gives it a hash in).
pub const LOADER: &str = "__wasm_split.js";

/// The parts each lazily loaded function needs, as Leptos reads it.
pub const MANIFEST: &str = "__wasm_split_manifest.json";

/// The app's JavaScript module, as wasm-bindgen names it (`--out-name
/// parley`), which the loader imports the running app from.
pub const MAIN_MODULE: &str = "./parley.js";

/// Splits `app` (linked with `--emit-relocs`, which the split needs to move
/// code and data between parts) into `main` and the parts under `pkg`,
/// writes the loader and the manifest beside them, and returns how many
/// parts there are besides `main`.
pub fn split(app: &Path, main: &Path, pkg: &Path) -> Result<usize, Error> {
    let input = std::fs::read(app).map_err(Error::io(app))?;
    std::fs::create_dir_all(pkg).map_err(Error::io(pkg))?;
    let link_name = format!("./{LOADER}");
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = pkg;
    options.main_out_path = main;
    options.link_name = &link_name;
    options.main_module = MAIN_MODULE;
    let split = wasm_split_cli_support::transform(options)
        .map_err(|e| Error::Split { path: app.to_path_buf(), reason: format!("{e:#}") })?;
    let manifest_path = pkg.join(MANIFEST);
    let manifest: std::collections::BTreeMap<_, _> = split.prefetch_map.into_iter().collect();
    let json = serde_json::to_string_pretty(&manifest).expect("a map of strings serialises");
    std::fs::write(&manifest_path, json).map_err(Error::io(&manifest_path))?;
    Ok(split.split_modules.len())
}
