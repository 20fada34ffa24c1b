//! The OpenAPI document is snapshot-tested: a change to the API shows up as a diff of
//! `tests/snapshots/openapi.json`. Regenerate with `UPDATE_SNAPSHOTS=1 cargo test -p wushe-web --test openapi`.

#[test]
fn openapi_matches_snapshot() {
    let spec = wushe_web::api::openapi().to_pretty_json().expect("spec serializes");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &spec).unwrap();
    }
    let stored = std::fs::read_to_string(&path).expect("snapshot exists; run with UPDATE_SNAPSHOTS=1 to create it");
    assert_eq!(stored, spec, "the API changed: review and regenerate the snapshot (UPDATE_SNAPSHOTS=1)");
}

#[test]
fn contract_paths_are_documented() {
    let spec: serde_json::Value = serde_json::from_str(&wushe_web::api::openapi().to_json().unwrap()).unwrap();
    for (path, method) in [
        ("/api/v1/auth/token", "post"),
        ("/api/v1/regions", "get"),
        ("/api/v1/regions/{code}", "get"),
        ("/api/v1/regions/{code}/children", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/audit", "get"),
        ("/api/v1/certificates/{id}/pdf", "get"),
        ("/api/v1/public/certificates/{number}", "get"),
    ] {
        assert!(spec["paths"][path][method].is_object(), "{method} {path} missing from the spec");
    }
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());
}
