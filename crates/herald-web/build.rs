//! Builds the dashboard (`web/`, Vite) into `$OUT_DIR/dist`, with a gzip copy of every text
//! asset beside it, for `src/lib.rs` to embed.
//!
//! `HERALD_WEB_DIST=<dir>` embeds a prebuilt `dist` instead (no Node.js needed). Otherwise
//! `npm ci` runs when `web/node_modules` is missing or older than `web/package-lock.json`, then
//! `npm run build` (type check + Vite) writes straight into `$OUT_DIR`, so builds of several
//! target directories never share an output folder.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const NEEDS_NPM: &str =
    "building the dashboard needs Node.js ≥ 18 and npm: apt-get install nodejs npm, \
or set HERALD_WEB_DIST=<prebuilt dist dir>";

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("dist");
    println!("cargo:rerun-if-env-changed=HERALD_WEB_DIST");
    let built = match std::env::var_os("HERALD_WEB_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => build_web(&out.with_file_name("vite")),
    };
    if out.exists() {
        fs::remove_dir_all(&out).unwrap();
    }
    copy_compressed(&built, &out);
    assert!(
        out.join("index.html").exists(),
        "the dashboard build has no index.html ({})",
        built.display()
    );
}

fn build_web(into: &Path) -> PathBuf {
    let web = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../web");
    for input in [
        "src",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(input).display());
    }
    if Command::new("npm").arg("--version").output().is_err() {
        panic!("{NEEDS_NPM}");
    }
    let installed = web.join("node_modules/.package-lock.json");
    if modified(&installed) < modified(&web.join("package-lock.json")) {
        npm(&web, &["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
    }
    let out_dir = into.to_str().expect("a UTF-8 OUT_DIR");
    npm(
        &web,
        &["run", "build", "--", "--outDir", out_dir, "--emptyOutDir"],
    );
    into.to_owned()
}

fn modified(path: &Path) -> std::time::SystemTime {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(std::time::SystemTime::UNIX_EPOCH)
}

fn npm(web: &Path, args: &[&str]) {
    let status = Command::new("npm")
        .args(args)
        .current_dir(web)
        .status()
        .unwrap_or_else(|e| panic!("{NEEDS_NPM} ({e})"));
    assert!(
        status.success(),
        "`npm {}` in web/ failed: {status}",
        args.join(" ")
    );
}

/// Copy `from` to `to`, adding `<file>.gz` for text files worth compressing.
fn copy_compressed(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap();
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().unwrap().is_dir() {
            copy_compressed(&source, &target);
            continue;
        }
        let bytes = fs::read(&source).unwrap();
        let text = matches!(
            source.extension().and_then(|e| e.to_str()),
            Some("js" | "css" | "html" | "svg" | "json" | "map")
        );
        if text && bytes.len() > 512 {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(&bytes).unwrap();
            let mut name = target.clone().into_os_string();
            name.push(".gz");
            fs::write(name, gz.finish().unwrap()).unwrap();
        }
        fs::write(target, bytes).unwrap();
    }
}
