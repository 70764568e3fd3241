//! The README's five-minute tour, run as written against a fresh server, so that it can never
//! drift from what Herald does.
//!
//! Conventions the tour follows (and this test relies on):
//! - every command in a `sh` block of the section "A five-minute tour" runs, in order, with
//!   `WRITE_KEY` and `ADMIN_KEY` set and `localhost:8080` pointing at the test's server; starting
//!   Herald (`cargo run …`) and exporting the keys are the test's job, and the live tail
//!   (`curl -N`, which never ends) is left out;
//! - a comment line right after a command, or a comment after it on its line, that starts with
//!   `{`, `[`, `"` or `...` shows (part of) what the command prints: the output must contain it,
//!   without the `...` at either end;
//! - `<name>` in a command stands for the value of the member `name` in what an earlier command
//!   printed (the latest one that has it).

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

struct Step {
    command: String,
    expected: Vec<String>,
}

/// The tour's commands and the outputs it shows for them.
fn tour() -> Vec<Step> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let start = readme
        .find("## A five-minute tour")
        .expect("the tour section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut steps: Vec<Step> = Vec::new();
    let mut in_block = false;
    let mut continued = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continued = false;
            continue;
        }
        if !in_block || line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let step = steps.last_mut().expect("an output follows a command");
            step.expected.extend(shown_output(comment));
            continue;
        }
        let (code, comment) = split_comment(line);
        let starts_new = !continued && !line.starts_with(' ');
        if starts_new {
            steps.push(Step {
                command: String::new(),
                expected: Vec::new(),
            });
        }
        let step = steps.last_mut().expect("a command");
        step.command.push_str(code.trim_end());
        step.command.push('\n');
        step.expected.extend(comment.and_then(shown_output));
        continued = code.trim_end().ends_with('\\');
    }
    steps
        .into_iter()
        .filter(|s| {
            let c = s.command.trim_start();
            !(c.starts_with("cargo run") || c.starts_with("export ") || c.contains("curl -N"))
        })
        .collect()
}

/// The code of a line and its trailing comment (a `#` after whitespace, outside quotes).
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let (mut single, mut double, mut prev) = (false, false, ' ');
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single && prev != '\\' => double = !double,
            '#' if !single && !double && prev.is_whitespace() => {
                return (&line[..i], Some(line[i + 1..].trim()));
            }
            _ => {}
        }
        prev = c;
    }
    (line, None)
}

/// The part of a comment that shows output, if it shows output.
fn shown_output(comment: &str) -> Option<String> {
    let c = comment.trim();
    if !(c.starts_with('{') || c.starts_with('[') || c.starts_with('"') || c.starts_with("...")) {
        return None;
    }
    let c = c.trim_start_matches("...").trim_end_matches("...").trim();
    Some(c.to_owned())
}

/// The value of member `name` anywhere in `v`, depth first.
fn find_member(v: &Value, name: &str) -> Option<String> {
    match v {
        Value::Object(m) => m
            .get(name)
            .and_then(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .or_else(|| Some(x.to_string()))
            })
            .or_else(|| m.values().find_map(|x| find_member(x, name))),
        Value::Array(a) => a.iter().find_map(|x| find_member(x, name)),
        _ => None,
    }
}

#[test]
fn the_readme_tour_runs_as_written() {
    let s = Server::start();
    let host = s.url.trim_start_matches("http://").to_owned();
    let steps = tour();
    assert!(
        steps.len() >= 15,
        "found only {} commands in the tour",
        steps.len()
    );
    let mut outputs: Vec<Value> = Vec::new();
    for step in &steps {
        let mut command = step.command.replace("localhost:8080", &host);
        while let Some(open) = command.find('<') {
            let Some(len) = command[open..].find('>') else {
                break;
            };
            let name = &command[open + 1..open + len];
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                break;
            }
            let value = outputs
                .iter()
                .rev()
                .find_map(|o| find_member(o, name))
                .unwrap_or_else(|| panic!("no earlier output has `{name}` for {command}"));
            command.replace_range(open..open + len + 1, &value);
        }
        // A reader types the next command after the last one took effect: events applied,
        // and audiences backfilled.
        s.wait_processed();
        eventually(30, "audiences ready", || {
            let list = s.admin_json("/api/v1/audiences");
            let audiences = list.as_array().or(list["audiences"].as_array())?;
            audiences.iter().all(|a| a["ready"] == true).then_some(())
        });
        let out = Command::new("bash")
            .arg("-c")
            .arg(&command)
            .env("WRITE_KEY", WRITE_KEY)
            .env("ADMIN_KEY", ADMIN_KEY)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{command}\nfailed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for expected in &step.expected {
            assert!(
                stdout.contains(expected.as_str()),
                "{command}\nprinted {stdout}\nbut the README shows {expected}"
            );
        }
        outputs.extend(
            stdout
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok()),
        );
        if let Ok(v) = serde_json::from_str::<Value>(&stdout) {
            outputs.push(v);
        }
    }
}
