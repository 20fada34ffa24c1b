//! The OpenAPI document is snapshot-tested: a change to the API shows up as a diff of
//! `tests/snapshots/openapi.json`. Regenerate with
//! `UPDATE_SNAPSHOTS=1 cargo test -p wushe-web --test it openapi::`.

#[test]
fn openapi_matches_snapshot() {
    let spec = wushe_web::api::openapi().to_pretty_json().expect("spec serializes");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &spec).unwrap();
    }
    let stored = std::fs::read_to_string(&path).expect("snapshot exists; run with UPDATE_SNAPSHOTS=1 to create it");
    if stored != spec {
        // The first differing line with a little context: the whole document is 300 KB.
        let (old, new): (Vec<&str>, Vec<&str>) = (stored.lines().collect(), spec.lines().collect());
        let at = old.iter().zip(&new).position(|(a, b)| a != b).unwrap_or(old.len().min(new.len()));
        let window = |v: &[&str]| v[at.saturating_sub(3)..(at + 4).min(v.len())].join("\n");
        panic!(
            "the API changed at line {}: review and regenerate the snapshot (UPDATE_SNAPSHOTS=1)\n--- stored\n{}\n--- now\n{}",
            at + 1,
            window(&old),
            window(&new)
        );
    }
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

/// Two Rust types under one schema name leave the spec documenting one operation with the
/// other's body (the organization status once showed the activity's).
#[test]
fn no_two_types_share_a_schema_name() {
    assert_eq!(wushe_web::api::schema_name_clashes(), Vec::<String>::new());
}

#[test]
fn the_status_of_an_organization_is_documented_with_its_own_body() {
    let spec: serde_json::Value = serde_json::from_str(&wushe_web::api::openapi().to_json().unwrap()).unwrap();
    let body = &spec["paths"]["/api/v1/organizations/{id}/status"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"]["$ref"];
    let name = body.as_str().unwrap().rsplit('/').next().unwrap();
    let required = &spec["components"]["schemas"][name]["required"];
    assert!(required.as_array().unwrap().iter().any(|f| f == "effective_on"), "{name}: {required}");
}

/// Every operation lists the refusals the server can give it, each with the error envelope;
/// every text field of a request body states its maximum length.
#[test]
fn refusals_and_text_bounds_are_documented() {
    let spec: serde_json::Value = serde_json::from_str(&wushe_web::api::openapi().to_json().unwrap()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for code in ["400", "414", "431", "500"] {
                assert!(op["responses"][code].is_object(), "{method} {path} lacks {code}");
            }
            if op["requestBody"].is_object() {
                assert!(op["responses"]["422"].is_object() && op["responses"]["413"].is_object(), "{method} {path}");
            }
        }
    }
    assert!(spec["paths"]["/api/v1/auth/token"]["post"]["responses"]["429"].is_object());
    let schemas = &spec["components"]["schemas"];
    let name_of = |r: &serde_json::Value| r.as_str().and_then(|r| r.rsplit('/').next()).map(str::to_string);
    let mut unbounded = Vec::new();
    let mut check = |place: String, p: &serde_json::Value| {
        let is_text = p["type"] == "string" || p["type"] == serde_json::json!(["string", "null"]);
        if is_text
            && p["enum"].is_null()
            && p["format"].is_null()
            && p["maxLength"].is_null()
            && !place.contains("password")
        {
            unbounded.push(place);
        }
    };
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                check(format!("{method} {path} ?{}", p["name"]), &p["schema"]);
            }
            let Some(name) = name_of(&op["requestBody"]["content"]["application/json"]["schema"]["$ref"]) else {
                continue;
            };
            // The body's own properties and those of the parts it flattens (allOf).
            let mut parts = vec![name];
            while let Some(name) = parts.pop() {
                let schema = &schemas[&name];
                for member in schema["allOf"].as_array().into_iter().flatten() {
                    parts.extend(name_of(&member["$ref"]));
                    for (field, p) in member["properties"].as_object().into_iter().flatten() {
                        check(format!("{name}.{field}"), p);
                    }
                }
                for (field, p) in schema["properties"].as_object().into_iter().flatten() {
                    check(format!("{name}.{field}"), p);
                }
            }
        }
    }
    assert!(unbounded.is_empty(), "text fields without maxLength: {unbounded:?}");
}
