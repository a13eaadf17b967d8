//! Naming the app's files after their content, so that browsers may keep
//! them for good (the server sends them `immutable`).
//!
//! The app's files refer to each other: the app's JavaScript imports the
//! loader of the lazily loaded parts, the loader imports the app's
//! JavaScript back and fetches the parts. A name made from a file's own
//! content would have to be known before the content that mentions it is,
//! so the app's files (its JavaScript, its WebAssembly, the loader and the
//! parts) share one name: a hash of all of them as the build left them.
//! Any change to any of them renames them all. The style sheet has its own.
//! The workers (`sw.js` and `call-worker.js`, not renamed: browsers find
//! them by their names) name the app's JavaScript and WebAssembly, and
//! follow their names.

use crate::Error;
use crate::split::{LOADER, MAIN_MODULE, MANIFEST};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// The app's files under `pkg/`, as the build writes them.
const JS: &str = "parley.js";
const WASM: &str = "parley.wasm";
const CSS: &str = "parley.css";
/// The workers, at the site's root, that import the app's JavaScript and
/// load its WebAssembly, by name: the service worker (to read pushes) and
/// the one that encrypts and decrypts the media of encrypted calls. The
/// server serves the same list with a policy of their own
/// (`server::http::site::WORKERS`).
const WORKERS: [&str; 2] = ["sw.js", "call-worker.js"];

/// The names given: the hash in the app's files' names, the one in the
/// style sheet's, and how many lazily loaded parts were renamed.
#[derive(Debug)]
pub struct Names {
    pub app: String,
    pub css: String,
    pub parts: usize,
}

impl fmt::Display for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the app {} ({} lazily loaded parts), the style sheet {}", self.app, self.parts, self.css)
    }
}

/// A file read from `pkg/`.
struct File {
    name: String,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl File {
    fn read(pkg: &Path, name: &str) -> Result<File, Error> {
        let path = pkg.join(name);
        let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
        Ok(File { name: name.to_string(), path, bytes })
    }

    fn text(&self) -> Result<String, Error> {
        std::str::from_utf8(&self.bytes).map(str::to_string).map_err(|e| Error::Io {
            path: self.path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    }
}

/// `name.ext` with `hash` before the extension.
fn hashed(name: &str, hash: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

/// A hash of the files' names and contents: 16 hexadecimal digits, as the
/// server recognises a hashed name.
fn hash_of<'a>(files: impl IntoIterator<Item = &'a File>) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update((f.name.len() as u64).to_le_bytes());
        h.update(f.name.as_bytes());
        h.update((f.bytes.len() as u64).to_le_bytes());
        h.update(&f.bytes);
    }
    hex::encode(&h.finalize()[..8])
}

/// How many times a reference is expected.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    Once,
    /// wasm-bindgen imports the loader once for each lazily loaded function.
    AtLeastOnce,
}

/// Replaces where `text` (the content of `path`) names `old`, in any of the
/// given forms (`{}` stands for the name), with `new`. Finding it fewer or
/// more times than expected is an error: the generated code no longer looks
/// as this step expects.
fn rewrite_reference(
    text: &str,
    path: &Path,
    forms: &[&str],
    old: &str,
    new: &str,
    expect: Expect,
) -> Result<String, Error> {
    let mut text = text.to_string();
    let mut count = 0;
    for form in forms {
        let (needle, replacement) = (form.replace("{}", old), form.replace("{}", new));
        count += text.matches(needle.as_str()).count();
        text = text.replace(needle.as_str(), &replacement);
    }
    match (count, expect) {
        (1, _) | (2.., Expect::AtLeastOnce) => Ok(text),
        _ => Err(Error::Reference {
            path: path.to_path_buf(),
            needle: forms[0].replace("{}", old),
            found: count,
        }),
    }
}

/// An ES module import of `{}`.
const IMPORT: &[&str] = &["from '{}'", "from \"{}\""];
/// A string literal of `{}`.
const LITERAL: &[&str] = &["\"{}\"", "'{}'"];

/// Names the app's files under `site/pkg` after their content, rewrites the
/// references between them and writes `site/hash.txt`.
pub fn name_site(site: &Path) -> Result<Names, Error> {
    let pkg = site.join("pkg");
    let js = File::read(&pkg, JS)?;
    let wasm = File::read(&pkg, WASM)?;
    let css = File::read(&pkg, CSS)?;
    let loader = pkg.join(LOADER).exists().then(|| File::read(&pkg, LOADER)).transpose()?;
    let mut parts = Vec::new();
    for entry in std::fs::read_dir(&pkg).map_err(Error::io(&pkg))? {
        let name = entry.map_err(Error::io(&pkg))?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".wasm") && name != WASM {
            parts.push(File::read(&pkg, &name)?);
        }
    }
    parts.sort_by(|a, b| a.name.cmp(&b.name));
    if loader.is_none()
        && let Some(part) = parts.first()
    {
        return Err(Error::Reference { path: part.path.clone(), needle: LOADER.into(), found: 0 });
    }

    let app = hash_of([&js, &wasm].into_iter().chain(loader.as_ref()).chain(&parts));
    let css_hash = hash_of([&css]);
    // The files whose content changes (their references), by old path.
    let mut rewritten: Vec<(PathBuf, String, Vec<u8>)> = Vec::new();

    let mut js_text = js.text()?;
    if let Some(loader) = &loader {
        let old = format!("./{LOADER}");
        let new = format!("./{}", hashed(LOADER, &app));
        js_text = rewrite_reference(&js_text, &js.path, IMPORT, &old, &new, Expect::AtLeastOnce)?;
        let mut text = loader.text()?;
        let main = format!("./{}", hashed(JS, &app));
        text = rewrite_reference(&text, &loader.path, IMPORT, MAIN_MODULE, &main, Expect::Once)?;
        for part in &parts {
            let (old, new) = (format!("./{}", part.name), format!("./{}", hashed(&part.name, &app)));
            text = rewrite_reference(&text, &loader.path, LITERAL, &old, &new, Expect::Once)?;
        }
        rewritten.push((loader.path.clone(), hashed(LOADER, &app), text.into_bytes()));
        rename_manifest_entries(&pkg.join(MANIFEST), &parts, &app)?;
    }
    rewritten.push((js.path.clone(), hashed(JS, &app), js_text.into_bytes()));
    for name in WORKERS {
        let worker = site.join(name);
        if !worker.exists() {
            continue;
        }
        let mut text = File::read(site, name)?.text()?;
        for (form, name) in [(IMPORT, JS), (LITERAL, WASM)] {
            let (old, new) = (format!("/pkg/{name}"), format!("/pkg/{}", hashed(name, &app)));
            text = rewrite_reference(&text, &worker, form, &old, &new, Expect::Once)?;
        }
        std::fs::write(&worker, text).map_err(Error::io(&worker))?;
    }
    for (old, name, bytes) in &rewritten {
        let new = pkg.join(name);
        std::fs::write(&new, bytes).map_err(Error::io(&new))?;
        std::fs::remove_file(old).map_err(Error::io(old))?;
    }
    // The others keep their content: renamed, not copied.
    for f in [&wasm, &css].into_iter().chain(&parts) {
        let hash = if f.name == CSS { &css_hash } else { &app };
        let new = pkg.join(hashed(&f.name, hash));
        std::fs::rename(&f.path, &new).map_err(Error::io(&f.path))?;
    }

    let mut list = format!("js: {app}\nwasm: {app}\ncss: {css_hash}\n");
    if loader.is_some() {
        list.push_str(&format!("split: {app}\n"));
    }
    let list_path = site.join("hash.txt");
    std::fs::write(&list_path, list).map_err(Error::io(&list_path))?;
    Ok(Names { app, css: css_hash, parts: parts.len() })
}

/// The manifest lists the parts by name without `.wasm`; each such name
/// gets the hash too. A name that is not one of `parts` is an error.
fn rename_manifest_entries(path: &Path, parts: &[File], hash: &str) -> Result<(), Error> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    let bad = |reason: String| Error::Manifest { path: path.to_path_buf(), reason };
    let mut manifest: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a map of lists of names: {e}")))?;
    let stems: BTreeSet<&str> = parts.iter().filter_map(|p| p.name.strip_suffix(".wasm")).collect();
    for names in manifest.values_mut() {
        for name in names.iter_mut() {
            if !stems.contains(name.as_str()) {
                return Err(bad(format!("{name:?} is not one of the parts")));
            }
            *name = format!("{name}.{hash}");
        }
    }
    let json = serde_json::to_string_pretty(&manifest).expect("a map of strings serialises");
    std::fs::write(path, json).map_err(Error::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder under the system's temporary one, removed when dropped.
    struct Site(PathBuf);

    impl Site {
        fn new(files: &[(&str, &str)]) -> Site {
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let root = std::env::temp_dir().join(format!("site-build-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(root.join("pkg")).unwrap();
            for (name, content) in files {
                std::fs::write(root.join("pkg").join(name), content).unwrap();
            }
            Site(root)
        }

        fn read(&self, name: &str) -> String {
            std::fs::read_to_string(self.0.join("pkg").join(name)).unwrap()
        }

        fn names(&self) -> BTreeSet<String> {
            std::fs::read_dir(self.0.join("pkg"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        }
    }

    impl Drop for Site {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const APP_JS: &str = "import * as import1 from \"./__wasm_split.js\"\nimport * as import2 from \"./__wasm_split.js\"\nconst imports = { \"./__wasm_split.js\": import1, \"./__wasm_split.js\": import2 };\n";
    const LOADER_JS: &str = "import { initSync } from \"./parley.js\";\nconst __chunk_1 = makeLoad(() => fetch(new URL(\"./chunk_1.wasm\", import.meta.url)), []);\nexport const __wasm_split_load_settings = makeLoad(() => fetch(new URL(\"./split_settings.wasm\", import.meta.url)), [__chunk_1]);\n";

    fn split_site(settings_part: &str) -> Site {
        Site::new(&[
            (JS, APP_JS),
            (WASM, "app"),
            (CSS, "body {}"),
            (LOADER, LOADER_JS),
            ("chunk_1.wasm", "shared"),
            ("split_settings.wasm", settings_part),
            (MANIFEST, r#"{"settings": ["chunk_1", "split_settings"]}"#),
        ])
    }

    #[test]
    fn an_app_without_parts_is_named_after_its_content() {
        let site = Site::new(&[(JS, "js"), (WASM, "wasm"), (CSS, "css")]);
        let names = name_site(&site.0).unwrap();
        assert_eq!(names.app.len(), 16);
        assert_ne!(names.app, names.css);
        let expected: BTreeSet<String> =
            [hashed(JS, &names.app), hashed(WASM, &names.app), hashed(CSS, &names.css)].into();
        assert_eq!(site.names(), expected);
        assert_eq!(site.read(&hashed(JS, &names.app)), "js", "content unchanged");
        assert_eq!(
            std::fs::read_to_string(site.0.join("hash.txt")).unwrap(),
            format!("js: {0}\nwasm: {0}\ncss: {1}\n", names.app, names.css)
        );
    }

    #[test]
    fn the_loader_and_the_parts_are_named_and_every_reference_follows() {
        let site = split_site("settings");
        let names = name_site(&site.0).unwrap();
        let h = &names.app;
        assert_eq!(names.parts, 2);
        let js = site.read(&format!("parley.{h}.js"));
        assert_eq!(js.matches(&format!("from \"./__wasm_split.{h}.js\"")).count(), 2, "{js}");
        assert_eq!(
            js.matches("\"./__wasm_split.js\": import").count(),
            2,
            "the WebAssembly's import names stay: {js}"
        );
        let loader = site.read(&format!("__wasm_split.{h}.js"));
        assert!(loader.contains(&format!("from \"./parley.{h}.js\"")), "{loader}");
        assert!(loader.contains(&format!("\"./chunk_1.{h}.wasm\"")), "{loader}");
        assert!(loader.contains(&format!("\"./split_settings.{h}.wasm\"")), "{loader}");
        assert_eq!(site.read(&format!("split_settings.{h}.wasm")), "settings");
        let manifest: BTreeMap<String, Vec<String>> = serde_json::from_str(&site.read(MANIFEST)).unwrap();
        assert_eq!(manifest["settings"], vec![format!("chunk_1.{h}"), format!("split_settings.{h}")]);
        let list = std::fs::read_to_string(site.0.join("hash.txt")).unwrap();
        assert!(list.ends_with(&format!("split: {h}\n")), "{list}");
        assert!(
            !site.names().iter().any(|n| n == JS || n == LOADER || n == "chunk_1.wasm"),
            "{:?}",
            site.names()
        );
    }

    #[test]
    fn the_workers_name_the_apps_files_by_their_new_names() {
        let site = split_site("settings");
        for (name, export) in WORKERS.iter().zip(["read_pushed", "serve_call_media"]) {
            let worker = format!(
                "import init, {{ {export} }} from \"/pkg/parley.js\";\nconst WASM = \"/pkg/parley.wasm\";\n"
            );
            std::fs::write(site.0.join(name), worker).unwrap();
        }
        let h = name_site(&site.0).unwrap().app;
        for name in WORKERS {
            let worker = std::fs::read_to_string(site.0.join(name)).unwrap();
            assert!(worker.contains(&format!("from \"/pkg/parley.{h}.js\"")), "{name}: {worker}");
            assert!(worker.contains(&format!("\"/pkg/parley.{h}.wasm\"")), "{name}: {worker}");
        }
        assert!(site.names().contains(&format!("parley.{h}.js")));
    }

    #[test]
    fn a_change_to_one_part_renames_all_of_the_apps_files() {
        let one = name_site(&split_site("settings").0).unwrap();
        let other = name_site(&split_site("settings, changed").0).unwrap();
        assert_ne!(one.app, other.app);
        assert_eq!(one.css, other.css);
    }

    #[test]
    fn a_reference_not_found_exactly_once_is_an_error_that_names_the_file() {
        let site = Site::new(&[
            (JS, APP_JS),
            (WASM, "app"),
            (CSS, ""),
            (LOADER, "import { initSync } from \"./other.js\";"),
        ]);
        let e = name_site(&site.0).unwrap_err();
        assert!(matches!(&e, Error::Reference { found: 0, .. }), "{e}");
        assert!(e.to_string().contains(LOADER), "{e}");
        let doubled = format!("{LOADER_JS}import {{ initSync as again }} from \"./parley.js\";\n");
        let site = Site::new(&[(JS, APP_JS), (WASM, "app"), (CSS, ""), (LOADER, &doubled)]);
        assert!(matches!(name_site(&site.0), Err(Error::Reference { found: 2, .. })));
    }

    #[test]
    fn a_part_without_a_loader_is_an_error() {
        let site = Site::new(&[(JS, "js"), (WASM, "wasm"), (CSS, ""), ("chunk_1.wasm", "")]);
        assert!(matches!(name_site(&site.0), Err(Error::Reference { found: 0, .. })));
    }
}
