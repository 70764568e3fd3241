//! Dashboard sign-in and roles, black-box: sessions in cookies, sign-out revoking them, CSRF
//! and origin checks, viewers reading only, the failed sign-in limit (across nodes in cluster
//! mode), users and the last-admin guard, the first admin printed once, `herald users`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

fn code(r: reqwest::blocking::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// An attribute of a `Set-Cookie` header (case-insensitive name), with its value if any.
fn attribute(set_cookie: &str, name: &str) -> Option<String> {
    set_cookie.split(';').skip(1).find_map(|a| {
        let (n, v) = a.trim().split_once('=').unwrap_or((a.trim(), ""));
        n.eq_ignore_ascii_case(name).then(|| v.to_owned())
    })
}

fn create_user(s: &Server, email: &str, password: &str, role: &str) -> Value {
    let r = s.admin_post(
        "/api/v1/users",
        &json!({"email": email, "password": password, "role": role}),
    );
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    r.json().unwrap()
}

#[test]
fn sign_in_and_out_and_the_cookie_is_refused_after_sign_out() {
    let s = Server::start();
    let r = s.try_sign_in(" Admin@Herald.TEST ", ADMIN_PASSWORD);
    assert_eq!(r.status(), 200);
    let headers = r.headers().clone();
    let set_cookie = headers["set-cookie"].to_str().unwrap();
    assert!(set_cookie.starts_with("herald_session="), "{set_cookie}");
    let token = set_cookie.split(';').next().unwrap()["herald_session=".len()..].to_owned();
    assert!(token.len() >= 43, "a 256-bit token: {token}");
    assert_eq!(attribute(set_cookie, "HttpOnly").as_deref(), Some(""));
    assert_eq!(attribute(set_cookie, "SameSite").as_deref(), Some("Strict"));
    assert_eq!(attribute(set_cookie, "Path").as_deref(), Some("/"));
    assert_eq!(attribute(set_cookie, "Max-Age").as_deref(), Some("604800"));
    assert_eq!(attribute(set_cookie, "Secure"), None, "plain HTTP");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    let body: Value = r.json().unwrap();
    assert_eq!(body["user"]["email"], ADMIN_EMAIL);
    assert_eq!(body["user"]["role"], "admin");
    assert!(body["user"]["id"].as_str().unwrap().starts_with("usr_"));
    assert!(body["user"]["createdAt"].is_string());
    let session = Session {
        cookie: format!("herald_session={token}"),
        csrf: body["csrfToken"].as_str().unwrap().to_owned(),
        user: body["user"].clone(),
    };

    // The session restores the CSRF token and reads the admin API.
    let again: Value = s
        .as_session(Method::GET, "/api/v1/session", &session)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(again["csrfToken"], body["csrfToken"]);
    assert_eq!(again["user"], body["user"]);
    let status = s
        .as_session(Method::GET, "/api/v1/status", &session)
        .send()
        .unwrap();
    assert_eq!(status.status(), 200);

    // Signing out needs the CSRF token too.
    let no_csrf = s
        .http
        .delete(format!("{}/api/v1/session", s.url))
        .header("cookie", &session.cookie)
        .send()
        .unwrap();
    assert_eq!(code(no_csrf), (403, "csrf_token_invalid".into()));
    let out = s
        .as_session(Method::DELETE, "/api/v1/session", &session)
        .send()
        .unwrap();
    assert_eq!(out.status(), 204);
    let cleared = out.headers()["set-cookie"].to_str().unwrap();
    assert_eq!(attribute(cleared, "Max-Age").as_deref(), Some("0"));

    // The old cookie, replayed, is refused everywhere; no browser password dialog.
    let replay = s
        .as_session(Method::GET, "/api/v1/session", &session)
        .send()
        .unwrap();
    assert!(!replay.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(code(replay), (401, "not_signed_in".into()));
    let replay = s
        .as_session(Method::GET, "/api/v1/status", &session)
        .send()
        .unwrap();
    assert_eq!(code(replay), (401, "not_signed_in".into()));
    // Signing out again (or with no cookie) is no error.
    let again = s
        .as_session(Method::DELETE, "/api/v1/session", &session)
        .send()
        .unwrap();
    assert_eq!(again.status(), 204);
    let none = s
        .http
        .get(format!("{}/api/v1/session", s.url))
        .send()
        .unwrap();
    assert_eq!(code(none), (401, "not_signed_in".into()));
}

#[test]
fn the_cookie_is_secure_over_tls() {
    let s = Server::start();
    let r = s
        .http
        .post(format!("{}/api/v1/session", s.url))
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert_eq!(
        attribute(&set_cookie, "Secure").as_deref(),
        Some(""),
        "{set_cookie}"
    );

    let behind_tls = Server::start_with(&["--public-url", "https://cdp.example.com"]);
    let r = behind_tls.try_sign_in(ADMIN_EMAIL, ADMIN_PASSWORD);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert_eq!(
        attribute(&set_cookie, "Secure").as_deref(),
        Some(""),
        "{set_cookie}"
    );
}

#[test]
fn unsafe_requests_need_the_csrf_token_and_the_own_origin() {
    let s = Server::start();
    let admin = s.sign_in_admin();
    let audience = json!({"id": "buyers", "rule": "performed \"Order Completed\" >= 1"});
    let wrong = Session {
        csrf: "not-the-token".into(),
        ..admin.clone()
    };
    let missing = s
        .http
        .post(format!("{}/api/v1/audiences", s.url))
        .header("cookie", &admin.cookie)
        .json(&audience)
        .send()
        .unwrap();
    assert_eq!(code(missing), (403, "csrf_token_invalid".into()));
    let r = s
        .as_session(Method::POST, "/api/v1/audiences", &wrong)
        .json(&audience)
        .send()
        .unwrap();
    assert_eq!(code(r), (403, "csrf_token_invalid".into()));
    let stored = s.admin_json("/api/v1/audiences");
    assert_eq!(stored.as_array().map(Vec::len), Some(0), "{stored}");

    // From another origin, even a read is refused; from this server's own, all is well.
    let foreign = s
        .as_session(Method::GET, "/api/v1/status", &admin)
        .header("origin", "https://evil.example")
        .send()
        .unwrap();
    assert_eq!(code(foreign), (403, "foreign_origin".into()));
    let own = s
        .as_session(Method::POST, "/api/v1/audiences", &admin)
        .header("origin", &s.url)
        .json(&audience)
        .send()
        .unwrap();
    assert_eq!(own.status(), 201, "{}", own.text().unwrap());

    // An admin key needs neither token nor origin.
    let by_key = s
        .http
        .delete(format!("{}/api/v1/audiences/buyers", s.url))
        .bearer_auth(ADMIN_KEY)
        .header("origin", "https://evil.example")
        .send()
        .unwrap();
    assert_eq!(by_key.status(), 204);
}

#[test]
fn a_viewer_reads_but_changes_nothing() {
    let s = Server::start();
    let batch = json!({"batch": [track("ana", "Order Completed", "m1")]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    let ana = s.profile("user_id:ana");
    let viewer = create_user(&s, "viewer@example.com", "viewer-password", "viewer");
    assert_eq!(viewer["role"], "viewer");
    let v = s.sign_in("viewer@example.com", "viewer-password");
    assert_eq!(v.user["role"], "viewer");

    let read = s
        .as_session(Method::GET, "/api/v1/profiles/user_id:ana", &v)
        .send()
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(
        read.json::<Value>().unwrap()["profile_id"],
        ana["profile_id"]
    );
    let preview = s
        .as_session(Method::POST, "/api/v1/audiences/preview", &v)
        .json(&json!({"rule": "performed \"Order Completed\" >= 1"}))
        .send()
        .unwrap();
    assert_eq!(preview.status(), 200, "a preview is a read");
    // So are the insights queries and running a saved insight (the index may still load).
    let trend =
        json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "interval": "day"});
    let saved = s.admin_post(
        "/api/v1/insights/saved",
        &json!({"name": "Daily", "kind": "trend", "query": trend, "lastDays": 7}),
    );
    assert_eq!(saved.status(), 201);
    let saved_id = saved.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = format!("/api/v1/insights/saved/{saved_id}/run");
    for (path, body) in [
        ("/api/v1/insights/trends", &trend),
        (run.as_str(), &json!({})),
    ] {
        let status = eventually(60, "the insights index", || {
            let r = s
                .as_session(Method::POST, path, &v)
                .json(body)
                .send()
                .unwrap();
            (r.status() != 503).then_some(r.status())
        });
        assert_eq!(status, 200, "{path} is a read");
    }
    let save = s
        .as_session(Method::POST, "/api/v1/insights/saved", &v)
        .json(&json!({"name": "Mine", "kind": "trend", "query": trend}))
        .send()
        .unwrap();
    assert_eq!(code(save), (403, "forbidden_role".into()));
    let remove = s
        .as_session(
            Method::DELETE,
            &format!("/api/v1/insights/saved/{saved_id}"),
            &v,
        )
        .send()
        .unwrap();
    assert_eq!(code(remove), (403, "forbidden_role".into()));

    let delete = s
        .as_session(Method::DELETE, "/api/v1/profiles/user_id:ana", &v)
        .send()
        .unwrap();
    let status = delete.status();
    let body: Value = delete.json().unwrap();
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (403, Some("forbidden_role"))
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("viewer role can only read"));
    let audience = json!({"id": "buyers", "rule": "performed \"Order Completed\" >= 1"});
    let create = s
        .as_session(Method::POST, "/api/v1/audiences", &v)
        .json(&audience)
        .send()
        .unwrap();
    assert_eq!(code(create), (403, "forbidden_role".into()));
    for admin_only in ["/api/v1/keys", "/api/v1/users"] {
        let r = s.as_session(Method::GET, admin_only, &v).send().unwrap();
        assert_eq!(code(r), (403, "forbidden_role".into()), "{admin_only}");
    }
    // Nothing changed.
    assert_eq!(s.profile("user_id:ana")["profile_id"], ana["profile_id"]);
    assert_eq!(s.admin_json("/api/v1/audiences"), json!([]));
    assert_eq!(
        s.admin_json("/api/v1/insights/saved")
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A new role takes effect at once, in the same session.
    let id = viewer["id"].as_str().unwrap();
    let r = s
        .http
        .patch(format!("{}/api/v1/users/{id}", s.url))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"role": "admin"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let create = s
        .as_session(Method::POST, "/api/v1/audiences", &v)
        .json(&audience)
        .send()
        .unwrap();
    assert_eq!(create.status(), 201);
}

#[test]
fn failed_sign_ins_are_limited_per_email_on_every_node() {
    let s = Server::start_with(&["--test-clock"]);
    create_user(&s, "other@example.com", "other-password", "viewer");
    for attempt in 0..5 {
        let r = s.try_sign_in(ADMIN_EMAIL, &format!("wrong-password-{attempt}"));
        assert_eq!(
            code(r),
            (401, "invalid_credentials".into()),
            "attempt {attempt}"
        );
    }
    // An unknown email is answered the same way.
    let unknown = s.try_sign_in("nobody@example.com", ADMIN_PASSWORD);
    assert_eq!(code(unknown), (401, "invalid_credentials".into()));
    let r = s.try_sign_in(ADMIN_EMAIL, ADMIN_PASSWORD);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        code(r),
        (429, "too_many_sign_ins".into()),
        "even the right password"
    );
    // Another email is not affected; keys still work.
    s.sign_in("other@example.com", "other-password");
    assert_eq!(s.admin_get("/api/v1/status").status(), 200);
    if cluster_backend() {
        let mut flags = s.cluster_flags();
        flags.push("--test-clock".into());
        let node = Server::start_node(&flags);
        let r = node.try_sign_in(ADMIN_EMAIL, ADMIN_PASSWORD);
        assert_eq!(
            code(r),
            (429, "too_many_sign_ins".into()),
            "on the other node too"
        );
    }
    // Once the failures are 15 minutes old, the right password works again.
    s.advance_clock(Duration::from_secs(15 * 60));
    s.sign_in_admin();
}

#[test]
fn sign_ins_at_once_get_no_more_guesses_than_the_limit() {
    let s = Server::start();
    let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
        let attempts: Vec<_> = (0..12)
            .map(|i| {
                let s = &s;
                scope.spawn(move || code(s.try_sign_in(ADMIN_EMAIL, &format!("guess-number-{i}"))))
            })
            .collect();
        attempts.into_iter().map(|a| a.join().unwrap()).collect()
    });
    let guesses = answers
        .iter()
        .filter(|a| a.1 == "invalid_credentials")
        .count();
    let refused = answers
        .iter()
        .filter(|a| a.1 == "too_many_sign_ins")
        .count();
    assert!((1..=5).contains(&guesses), "{answers:?}");
    assert_eq!(guesses + refused, 12, "{answers:?}");
    let r = s.try_sign_in(ADMIN_EMAIL, ADMIN_PASSWORD);
    assert_eq!(code(r), (429, "too_many_sign_ins".into()));
}

#[test]
fn an_idle_session_ends() {
    let s = Server::start_with(&["--test-clock"]);
    let admin = s.sign_in_admin();
    let get = |session: &Session| {
        s.as_session(Method::GET, "/api/v1/session", session)
            .send()
            .unwrap()
            .status()
    };
    // Used every 11 hours, it lives on (each use moves its idle deadline)...
    for _ in 0..2 {
        s.advance_clock(Duration::from_secs(11 * 3600));
        assert_eq!(get(&admin), 200);
    }
    // ...unused for 12 hours, it is over.
    s.advance_clock(Duration::from_secs(12 * 3600));
    assert_eq!(get(&admin), 401);
}

#[test]
fn users_are_managed_by_admins_and_the_last_admin_stays() {
    let s = Server::start();
    let users: Vec<Value> = s.admin_json("/api/v1/users").as_array().unwrap().clone();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["email"], ADMIN_EMAIL);
    let first_admin = users[0]["id"].as_str().unwrap().to_owned();
    let admin = s.sign_in_admin();

    // Creating, through a session: the bad ones are refused with their codes.
    let post = |body: Value| {
        s.as_session(Method::POST, "/api/v1/users", &admin)
            .json(&body)
            .send()
            .unwrap()
    };
    let bob =
        post(json!({"email": "Bob@Example.com", "password": "bob-password", "role": "viewer"}));
    assert_eq!(bob.status(), 201);
    let bob: Value = bob.json().unwrap();
    assert_eq!(bob["email"], "bob@example.com");
    let cases = [
        (
            json!({"email": "bob@example.com", "password": "bob-password", "role": "viewer"}),
            409,
            "email_taken",
        ),
        (
            json!({"email": "cy@example.com", "password": "short", "role": "viewer"}),
            422,
            "weak_password",
        ),
        (
            json!({"email": "not an email", "password": "long-enough-1", "role": "viewer"}),
            400,
            "invalid_email",
        ),
        (
            json!({"email": "cy@example.com", "password": "long-enough-1", "role": "owner"}),
            422,
            "unprocessable_body",
        ),
        (
            json!({"email": "cy@example.com", "role": "viewer"}),
            422,
            "unprocessable_body",
        ),
    ];
    for (body, status, want) in cases {
        assert_eq!(
            code(post(body.clone())),
            (status, want.to_owned()),
            "{body}"
        );
    }
    let malformed = s
        .as_session(Method::POST, "/api/v1/users", &admin)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .unwrap();
    assert_eq!(code(malformed), (400, "invalid_json".into()));
    let not_json = s.post_raw(
        "/api/v1/session",
        b"email=a&password=b".to_vec(),
        &[("content-type", "application/x-www-form-urlencoded")],
    );
    assert_eq!(code(not_json), (415, "unsupported_media_type".into()));
    assert_eq!(s.admin_json("/api/v1/users").as_array().unwrap().len(), 2);

    // The last admin can be neither demoted nor deleted.
    let patch = |id: &str, body: Value| {
        s.as_session(Method::PATCH, &format!("/api/v1/users/{id}"), &admin)
            .json(&body)
            .send()
            .unwrap()
    };
    assert_eq!(
        code(patch(&first_admin, json!({"role": "viewer"}))),
        (409, "last_admin".into())
    );
    let delete = |id: &str| {
        s.as_session(Method::DELETE, &format!("/api/v1/users/{id}"), &admin)
            .send()
            .unwrap()
    };
    assert_eq!(code(delete(&first_admin)), (409, "last_admin".into()));
    assert_eq!(code(delete("usr_nobody")), (404, "user_not_found".into()));
    assert_eq!(
        code(patch("usr_nobody", json!({"role": "admin"}))),
        (404, "user_not_found".into())
    );
    let bob_id = bob["id"].as_str().unwrap();
    assert_eq!(
        code(patch(bob_id, json!({"password": "short"}))),
        (422, "weak_password".into())
    );
    for body in [
        json!({"role": "owner"}),
        json!([null, null]),
        json!({"password": 7}),
    ] {
        assert_eq!(
            code(patch(bob_id, body.clone())),
            (422, "unprocessable_body".into()),
            "{body}"
        );
    }

    // A new password ends the user's sessions; the new one signs in.
    let bob_session = s.sign_in("bob@example.com", "bob-password");
    let changed = patch(bob_id, json!({"password": "bob-new-password"}));
    assert_eq!(changed.status(), 200);
    let old = s
        .as_session(Method::GET, "/api/v1/session", &bob_session)
        .send()
        .unwrap();
    assert_eq!(code(old), (401, "not_signed_in".into()));
    assert_eq!(
        code(s.try_sign_in("bob@example.com", "bob-password")),
        (401, "invalid_credentials".into())
    );
    let bob_session = s.sign_in("bob@example.com", "bob-new-password");
    // ...and the admin's own session survives a change of the admin's own password.
    let mine = patch(&first_admin, json!({"password": "admin-new-password"}));
    assert_eq!(mine.status(), 200);
    assert_eq!(
        s.as_session(Method::GET, "/api/v1/session", &admin)
            .send()
            .unwrap()
            .status(),
        200
    );

    // Deleting a user ends their sessions.
    assert_eq!(delete(bob_id).status(), 204);
    let gone = s
        .as_session(Method::GET, "/api/v1/status", &bob_session)
        .send()
        .unwrap();
    assert_eq!(code(gone), (401, "not_signed_in".into()));
    // With a second admin, the first may go.
    let second = create_user(&s, "second@example.com", "second-password", "admin");
    assert_eq!(delete(&first_admin).status(), 204);
    assert_eq!(s.admin_json("/api/v1/users")[0]["id"], second["id"]);
}

#[test]
fn the_first_admin_is_generated_and_printed_once() {
    let mut s = Server::start_with_env(
        &[],
        &[
            ("HERALD_ADMIN_PASSWORD", None),
            ("HERALD_ADMIN_EMAIL", Some("first@example.com")),
        ],
    );
    let line = s
        .banner
        .iter()
        .find(|l| l.contains("Dashboard admin: first@example.com"))
        .unwrap_or_else(|| panic!("no first user in the banner: {:?}", s.banner));
    let password: String = line
        .split("password: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .into();
    let password = password.as_str();
    assert!(password.len() >= 10, "{line}");
    let session = s.sign_in("first@example.com", password);
    assert_eq!(session.user["role"], "admin");
    // Printed once: the next start only counts users.
    s.crash_and_restart();
    assert!(
        !s.banner.iter().any(|l| l.contains(password)),
        "{:?}",
        s.banner
    );
    assert!(
        s.banner.iter().any(|l| l.contains("Dashboard users: 1")),
        "{:?}",
        s.banner
    );
    s.sign_in("first@example.com", password);
}

/// `herald users ARGS` on the server's store, with `stdin` as standard input.
fn users_cli(s: &Server, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(bin())
        .arg("users")
        .args(args)
        .arg("--data-dir")
        .arg(&s.dir)
        .args(s.database_flags())
        .env_remove("HERALD_DATABASE_URL")
        .env_remove("HERALD_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_users_command_adds_lists_and_removes() {
    let s = Server::start();
    let out = users_cli(
        &s,
        &[
            "add",
            "--email",
            "cli@example.com",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "cli-password\n",
    );
    assert!(succeeded(&out).contains("added viewer cli@example.com"));
    let session = s.sign_in("cli@example.com", "cli-password");
    assert_eq!(session.user["role"], "viewer");
    let generated = succeeded(&users_cli(
        &s,
        &["add", "--email", "gen@example.com", "--role", "admin"],
        "",
    ));
    let password = generated
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap();
    s.sign_in("gen@example.com", password);
    let weak = users_cli(
        &s,
        &[
            "add",
            "--email",
            "w@example.com",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 10 characters"));

    let list = succeeded(&users_cli(&s, &["list"], ""));
    for email in [ADMIN_EMAIL, "cli@example.com", "gen@example.com"] {
        assert!(list.contains(email), "{list}");
    }
    assert!(!list.contains("w@example.com"), "{list}");
    succeeded(&users_cli(&s, &["remove", "CLI@example.com"], ""));
    let gone = s
        .as_session(Method::GET, "/api/v1/session", &session)
        .send()
        .unwrap();
    assert_eq!(gone.status(), 401, "the removed user's session ended");
    succeeded(&users_cli(&s, &["remove", "gen@example.com"], ""));
    let last = users_cli(&s, &["remove", ADMIN_EMAIL], "");
    assert!(!last.status.success());
    assert!(String::from_utf8_lossy(&last.stderr).contains("last admin"));
}
