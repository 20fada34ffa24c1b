//! In-process HTTP client for the whole app (tower `oneshot`), with a cookie jar, the CSRF
//! token of the session and optional Bearer token.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;
use wushe_store::Db;
use wushe_web::{AppState, WebConfig};

/// The app under test.
/// One key ring per test process (tests compare encrypted data only through the app).
pub fn test_keys() -> &'static wushe_store::crypto::KeyRing {
    static KEYS: std::sync::OnceLock<wushe_store::crypto::KeyRing> = std::sync::OnceLock::new();
    KEYS.get_or_init(wushe_store::crypto::KeyRing::generate)
}

#[derive(Clone)]
pub struct TestApp {
    pub router: Router,
    pub db: Db,
}

impl TestApp {
    pub fn new(db: Db) -> TestApp {
        Self::with_config(db, WebConfig::default())
    }

    pub fn with_config(db: Db, config: WebConfig) -> TestApp {
        TestApp { router: wushe_web::app(AppState::new(db.clone(), test_keys().clone(), config)), db }
    }

    /// A client with an empty cookie jar.
    pub fn client(&self) -> Client {
        Client { router: self.router.clone(), cookies: BTreeMap::new(), csrf: None, bearer: None }
    }

    /// A client using an API token of `username` (signed in with the fixtures' password).
    pub async fn api(&self, username: &str) -> Client {
        let mut c = self.client();
        c.token_for(username, crate::PASSWORD).await;
        c
    }
}

pub struct Client {
    router: Router,
    cookies: BTreeMap<String, String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn location(&self) -> Option<&str> {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
    }

    /// The JSON error envelope's message.
    pub fn error_message(&self) -> String {
        self.json()["error"]["message"].as_str().unwrap_or_default().to_string()
    }
}

/// Find `name="_csrf" value="…"` in a page.
pub fn find_csrf(html: &str) -> Option<String> {
    let i = html.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    let end = html[i..].find('"')?;
    Some(html[i..i + end].to_string())
}

impl Client {
    pub fn with_bearer(mut self, token: &str) -> Client {
        self.bearer = Some(token.to_string());
        self
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        if !self.cookies.is_empty() {
            let c: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header(header::COOKIE, c.join("; "));
        }
        if let Some(t) = &self.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let res = self.router.clone().oneshot(req.body(Body::from(body)).expect("request")).await.expect("infallible");
        for v in res.headers().get_all(header::SET_COOKIE) {
            let s = v.to_str().unwrap_or_default();
            let pair = s.split(';').next().unwrap_or_default();
            if let Some((k, val)) = pair.split_once('=') {
                let expired = s.contains("Max-Age=0") || val.is_empty();
                if expired {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies.insert(k.trim().to_string(), val.to_string());
                }
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = String::from_utf8_lossy(&bytes).to_string();
        if let Some(t) = find_csrf(&body) {
            self.csrf = Some(t);
        }
        Resp { status, headers, body }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None, Vec::new(), &[]).await
    }

    /// POST a form; the session's CSRF token is added unless the form has one.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut all: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if !fields.iter().any(|(k, _)| *k == "_csrf") {
            if let Some(t) = &self.csrf {
                all.push(("_csrf".into(), t.clone()));
            }
        }
        let body = serde_urlencoded_encode(&all);
        self.send(Method::POST, path, Some("application/x-www-form-urlencoded"), body.into_bytes(), &[]).await
    }

    /// POST a form exactly as given (no CSRF token added).
    pub async fn post_form_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let all: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.send(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            serde_urlencoded_encode(&all).into_bytes(),
            &[],
        )
        .await
    }

    pub async fn json(&mut self, method: Method, path: &str, body: &serde_json::Value) -> Resp {
        let csrf = self.csrf.clone();
        let extra: Vec<(&str, &str)> = csrf.as_deref().map(|t| vec![("x-csrf-token", t)]).unwrap_or_default();
        self.send(method, path, Some("application/json"), body.to_string().into_bytes(), &extra).await
    }

    /// Upload a file as the multipart field `file`, as a browser form or `curl -F` would.
    pub async fn upload(&mut self, path: &str, file_name: &str, bytes: &[u8]) -> Resp {
        let boundary = "----wushe-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let csrf = self.csrf.clone();
        let extra: Vec<(&str, &str)> = csrf.as_deref().map(|t| vec![("x-csrf-token", t)]).unwrap_or_default();
        let ct = format!("multipart/form-data; boundary={boundary}");
        self.send(Method::POST, path, Some(&ct), body, &extra).await
    }

    /// Sign in through the login form, as a browser would.
    pub async fn login(&mut self, username: &str, password: &str) -> Resp {
        let page = self.get("/login").await;
        assert_eq!(page.status, StatusCode::OK, "login page");
        self.post_form("/login", &[("username", username), ("password", password), ("next", "/")]).await
    }

    /// Get an API token and use it for later requests.
    pub async fn token_for(&mut self, username: &str, password: &str) -> String {
        let r = self
            .json(Method::POST, "/api/v1/auth/token", &serde_json::json!({"username": username, "password": password}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "token: {}", r.body);
        let t = r.json()["token"].as_str().expect("token").to_string();
        self.bearer = Some(t.clone());
        t
    }
}

fn serde_urlencoded_encode(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
