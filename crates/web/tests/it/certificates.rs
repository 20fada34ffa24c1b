//! Volunteer service certificates on both backends: only the recording organization issues
//! ("who records certifies"), one request in progress at a time, the scope of every list and
//! load, the PDF (served as application/pdf, with the holder's name extractable through the
//! font's ToUnicode map), the public verification (masked holder, hours, valid or revoked),
//! the optional publicity period, corrections after issue, the statistics and the audit.

use std::collections::HashMap;
use std::io::Read;

use axum::http::{header, Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::json;
use wushe_domain::accounts::Role;
use wushe_store::{on_db, on_tx, stats, Db};
use wushe_testkit::volunteering::{register_volunteer, serve};
use wushe_testkit::{citizen_id, create_org, create_user, db_test, seed_cast, Client, TestApp, PASSWORD};

/// Register a volunteer named `name` (by the county official) with a login; returns the person id.
async fn volunteer(db: &Db, county: &mut Client, username: &str, name: &str, seq: u32) -> i64 {
    let body = json!({"name": name, "citizen_id": citizen_id(&format!("42010619900307{seq:03}")),
        "phone": format!("139{seq:08}"), "division_code": "420106001001", "skills": []});
    register_volunteer(db, county, username, &body).await
}

async fn exec(db: &Db, sql: &str) {
    let mut tx = db.begin().await.unwrap();
    on_tx!(&mut tx, |c| sqlx::query(sql).execute(c).await.map(|r| r.rows_affected())).unwrap();
    tx.commit().await.unwrap();
}

/// A three-hour service of `vol` for `org`'s activity, confirmed by `org`; returns the record id.
async fn served(db: &Db, org: &mut Client, vol: &mut Client, title: &str) -> i64 {
    let s = Utc::now() + Duration::minutes(30);
    let body = json!({"title": title, "content": "陪伴社区老人聊天、读报", "category": "扶老助残",
        "division_code": "420106001001", "address": "积玉桥社区活动室", "publish": true,
        "slots": [{"starts_at": s, "ends_at": s + Duration::hours(3), "capacity": 5}]});
    let r = org.json(Method::POST, "/api/v1/activities", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let aid = r.json()["id"].as_i64().unwrap();
    let slot = org.get(&format!("/api/v1/activities/{aid}")).await.json()["slots"][0]["id"].as_i64().unwrap();
    let done = serve(db, org, vol, (aid, slot), 180).await;
    assert_eq!(done.credited_minutes, 180);
    done.record_id
}

fn year() -> String {
    wushe_domain::stats::year_key(wushe_domain::time::local_date(Utc::now()).format("%Y").to_string().parse().unwrap())
}

async fn audit_actions(db: &Db, id: i64) -> Vec<String> {
    let rows: Vec<(String,)> = on_db!(db, |c| sqlx::query_as(
        "SELECT action FROM audit_log WHERE entity = 'certificate' AND entity_id = $1 ORDER BY id"
    )
    .bind(id.to_string())
    .fetch_all(c)
    .await)
    .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

db_test!(request_issue_verify_and_revoke, |db| async move {
    let cast = seed_cast(&db).await;
    exec(&db, &format!("UPDATE organizations SET credit_code = '52420106MJY5678919', legal_representative = '张主任', contact_person = '王联系', contact_phone = '027-88886666' WHERE id = {}", cast.org)).await;
    let org2_id = create_org(&db, "洪山区另一社工中心", "420111000000").await;
    create_user(&db, "org2", Role::OrgStaff, "420111", Some(org2_id)).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let p = volunteer(&db, &mut county, "lihua", "李小华", 1).await;
    volunteer(&db, &mut county, "other", "王其他", 2).await;
    let (mut org, mut org2) = (app.api("org").await, app.api("org2").await);
    let (mut lihua, mut other) = (app.api("lihua").await, app.api("other").await);
    let mut public = app.client();

    // nothing recorded yet: no organization to ask
    let ask = |o: i64| json!({"organization_id": o, "purpose": "升学"});
    let r = lihua.json(Method::POST, "/api/v1/certificates", &ask(cast.org)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.error_message().contains("谁记录谁证明"), "{}", r.body);

    served(&db, &mut org, &mut lihua, "陪伴社区老人").await;
    let issuers = lihua.get("/api/v1/certificates/issuers").await.json();
    assert_eq!(issuers["items"].as_array().unwrap().len(), 1, "{issuers}");
    assert_eq!(
        (issuers["items"][0]["minutes"].as_i64(), issuers["items"][0]["pending"].as_bool()),
        (Some(180), Some(false))
    );
    // only the recording organization certifies
    let r = lihua.json(Method::POST, "/api/v1/certificates", &ask(org2_id)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(org.json(Method::POST, "/api/v1/certificates", &ask(cast.org)).await.status, StatusCode::FORBIDDEN);

    let r = lihua.json(Method::POST, "/api/v1/certificates", &ask(cast.org)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let again = lihua.json(Method::POST, "/api/v1/certificates", &ask(cast.org)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "one request in progress");
    assert!(again.error_message().contains("正在办理中"), "{}", again.body);
    assert_eq!(lihua.get("/api/v1/certificates/issuers").await.json()["items"][0]["pending"], true);

    // scope: the other organization, another volunteer, another county see nothing
    let decide = |action: &str, reason: Option<&str>| json!({"action": action, "reason": reason});
    let path = format!("/api/v1/certificates/{id}/decision");
    assert_eq!(org2.json(Method::POST, &path, &decide("issue", None)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(org2.get("/api/v1/certificates").await.json()["total"], 0);
    assert_eq!(other.get(&format!("/api/v1/certificates/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.get("/api/v1/certificates").await.json()["total"], 0);
    assert_eq!(lihua.json(Method::POST, &path, &decide("issue", None)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(county.get("/api/v1/certificates").await.json()["total"], 1, "the county sees its region's");
    let mut county2 = app.api("county2").await;
    assert_eq!(county2.get("/api/v1/certificates").await.json()["total"], 0);
    assert_eq!(county2.get(&format!("/api/v1/certificates/{id}")).await.status, StatusCode::NOT_FOUND);
    // not issued yet: no PDF
    assert_eq!(lihua.get(&format!("/api/v1/certificates/{id}/pdf")).await.status, StatusCode::CONFLICT);

    // the organization issues: the handler is the acting user, the person in charge its record's
    let r = org.json(Method::POST, &path, &decide("issue", None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = r.json();
    assert_eq!(c["status"], "issued");
    assert_eq!(c["total_hours"], "3");
    let number = c["number"].as_str().unwrap().to_string();
    assert_eq!(number.len(), 21, "grouped: {number}");
    assert_eq!(org.json(Method::POST, &path, &decide("issue", None)).await.status, StatusCode::CONFLICT);
    let d = lihua.get(&format!("/api/v1/certificates/{id}")).await.json();
    assert_eq!((d["holder_name"].as_str(), d["person_in_charge"].as_str()), (Some("李小华"), Some("张主任")));
    assert_eq!((d["handler_name"].as_str(), d["contact"].as_str()), (Some("org"), Some("王联系 027-88886666")));
    assert!(d["id_masked"].as_str().unwrap().contains("********"), "{d}");
    assert_eq!(d["items"].as_array().unwrap().len(), 1);
    assert_eq!(d["items"][0]["activity_title"], "陪伴社区老人");

    // the PDF: the holder, the issuing organization; nobody else
    let pdf_path = format!("/api/v1/certificates/{id}/pdf");
    let r = lihua.get(&pdf_path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers.get(header::CONTENT_TYPE).unwrap(), "application/pdf");
    assert_eq!(other.get(&pdf_path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(org2.get(&pdf_path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(org.get(&pdf_path).await.status, StatusCode::OK);

    // public verification, no login: masked holder and ID, hours, issuer and its code
    let v = public.get(&format!("/api/v1/public/certificates/{number}")).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    let v = v.json();
    assert_eq!((v["valid"].as_bool(), v["status_label"].as_str()), (Some(true), Some("有效")));
    assert_eq!(v["holder_name"], "李*华");
    assert!(v["id_masked"].as_str().unwrap().starts_with("420106********"), "{v}");
    assert_eq!((v["total_hours"].as_str(), v["services"].as_i64()), (Some("3"), Some(1)));
    assert_eq!(v["issuer_name"], "武昌区测试社工中心");
    assert_eq!(v["issuer_credit_code"], "52420106MJY5678919");
    assert!(v["volunteer_number"].as_str().unwrap().starts_with('V'), "{v}");
    assert!(!v.to_string().contains("李小华"), "the full name never leaves: {v}");
    // typed without dashes and in lower case it is the same certificate
    let plain = number.replace('-', "").to_lowercase();
    assert_eq!(public.get(&format!("/api/v1/public/certificates/{plain}")).await.json()["number"], number.as_str());
    // a typo is caught by the check character; an unknown number is a 404
    let last = number.chars().last().unwrap();
    let typo = format!("{}{}", &number[..number.len() - 1], if last == '0' { '1' } else { '0' });
    let r = public.get(&format!("/api/v1/public/certificates/{typo}")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error_message().contains("校验位"), "{}", r.body);
    let unknown = wushe_domain::volunteering::certificate::CertificateNumber::generate(2026, 12345);
    let r = public.get(&format!("/api/v1/public/certificates/{}", unknown.as_str())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.error_message().contains("未找到"), "{}", r.body);
    let page = public.get(&format!("/verify/{plain}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("有效") && page.body.contains("李*华") && !page.body.contains("李小华"),
        "{}",
        page.body
    );

    // counted once in the figures of the organization's region
    stats::rollup_all(&db).await.unwrap();
    assert_eq!(stats::value(&db, "certificates", "420106", &year()).await.unwrap(), 1);

    // a new request is possible again; declining needs a reason
    let r = lihua.json(Method::POST, "/api/v1/certificates", &ask(cast.org)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id2 = r.json()["id"].as_i64().unwrap();
    let path2 = format!("/api/v1/certificates/{id2}/decision");
    let r = org.json(Method::POST, &path2, &decide("decline", None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error_message().contains("原因"), "{}", r.body);
    let r = org.json(Method::POST, &path2, &decide("decline", Some("已于本月出具过证明"))).await;
    assert_eq!(r.json()["status"], "declined", "{}", r.body);
    assert_eq!(public.get(&format!("/api/v1/public/certificates/{number}")).await.json()["valid"], true);

    // revoked: the verification says so, the PDF is no longer given, the figure goes back
    let r = org.json(Method::POST, &path, &decide("revoke", Some("所列记录有误"))).await;
    assert_eq!(r.json()["status"], "revoked", "{}", r.body);
    let v = public.get(&format!("/api/v1/public/certificates/{number}")).await.json();
    assert_eq!(
        (v["valid"].as_bool(), v["status"].as_str(), v["status_label"].as_str()),
        (Some(false), Some("revoked"), Some("已撤销"))
    );
    let page = public.get(&format!("/verify/{number}")).await;
    assert!(page.body.contains("已撤销"), "{}", page.body);
    assert_eq!(lihua.get(&pdf_path).await.status, StatusCode::CONFLICT);
    assert_eq!(org.json(Method::POST, &path, &decide("revoke", Some("再次撤销"))).await.status, StatusCode::CONFLICT);
    stats::rollup_all(&db).await.unwrap();
    assert_eq!(stats::value(&db, "certificates", "420106", &year()).await.unwrap(), 0);

    // every change and every full view is in the audit log
    let actions = audit_actions(&db, id).await;
    for a in ["request", "issue", "view", "download", "revoke"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
    assert!(audit_actions(&db, id2).await.contains(&"decline".to_string()));
    let _ = p;
});

db_test!(pdf_has_the_holder_as_text, |db| async move {
    let cast = seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    volunteer(&db, &mut county, "lihua", "李小华", 1).await;
    let (mut org, mut lihua) = (app.api("org").await, app.api("lihua").await);
    served(&db, &mut org, &mut lihua, "社区读书会").await;
    let id = lihua.json(Method::POST, "/api/v1/certificates", &json!({"organization_id": cast.org})).await.json()["id"]
        .as_i64()
        .unwrap();
    let c = org
        .json(Method::POST, &format!("/api/v1/certificates/{id}/decision"), &json!({"action": "issue"}))
        .await
        .json();
    let number = c["number"].as_str().unwrap().to_string();
    // the test client reads bodies as text; a PDF is read as bytes
    let token = lihua.bearer.clone().expect("token");
    let raw = raw_get(&app, &format!("/api/v1/certificates/{id}/pdf"), &token).await;
    assert!(raw.starts_with(b"%PDF-"), "not a PDF: {:?}", &raw[..raw.len().min(16)]);
    assert!(raw.windows(5).any(|w| w == b"%%EOF"), "no end of file marker");
    let text = extract_text(&raw);
    for expected in ["志愿服务记录证明", "李小华", "社区读书会", "武昌区测试社工中心", "3 小时", number.as_str()]
    {
        assert!(text.contains(expected), "「{expected}」 not extractable from the PDF text: {text}");
    }
});

db_test!(publicity_corrections_and_zero_hours, |db| async move {
    let cast = seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    volunteer(&db, &mut county, "lihua", "李小华", 1).await;
    volunteer(&db, &mut county, "zero", "赵零", 2).await;
    let (mut org, mut lihua, mut zero) = (app.api("org").await, app.api("lihua").await, app.api("zero").await);
    let mut admin = app.api("admin").await;
    let mut public = app.client();

    // publicity on: the first "issue" starts 7 days of publicity, issuing waits for its end
    let mut s = admin.get("/api/v1/settings/volunteering").await.json();
    assert_eq!(s["certificates"]["publicity"], false, "off by default");
    s["certificates"] = json!({"publicity": true, "publicity_days": 7});
    let r = admin.json(Method::PUT, "/api/v1/settings/volunteering", &s).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rid = served(&db, &mut org, &mut lihua, "社区读书会").await;
    let id = lihua.json(Method::POST, "/api/v1/certificates", &json!({"organization_id": cast.org})).await.json()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/certificates/{id}/decision");
    let r = org.json(Method::POST, &path, &json!({"action": "issue"})).await.json();
    assert_eq!(r["status"], "publicity", "{r}");
    assert!(r["number"].is_null());
    let r = org.json(Method::POST, &path, &json!({"action": "issue"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error_message().contains("公示期"), "{}", r.body);
    exec(&db, &format!("UPDATE certificates SET publicity_until = requested_at WHERE id = {id}")).await;
    let r = org.json(Method::POST, &path, &json!({"action": "issue"})).await.json();
    assert_eq!(r["status"], "issued", "{r}");
    let number = r["number"].as_str().unwrap().to_string();

    // a correction after issue: the certificate keeps its figures and says it was corrected
    let start = Utc::now() - Duration::hours(5);
    let corr = json!({"reason": "实际服务了四个小时", "started_at": start, "ended_at": start + Duration::hours(4)});
    let cid = lihua.json(Method::POST, &format!("/api/v1/service-records/{rid}/corrections"), &corr).await.json()["id"]
        .as_i64()
        .unwrap();
    let r = org.json(Method::POST, &format!("/api/v1/corrections/{cid}/review"), &json!({"approve": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = public.get(&format!("/api/v1/public/certificates/{number}")).await.json();
    assert_eq!((v["valid"].as_bool(), v["total_hours"].as_str()), (Some(true), Some("3")), "{v}");
    assert_eq!(v["records_corrected_after_issue"], true);
    assert!(public.get(&format!("/verify/{number}")).await.body.contains("已被更正"));
    assert_eq!(org.get("/api/v1/certificates").await.json()["items"][0]["records_corrected"], true);

    // confirmed records worth 0 hours: a clear refusal
    served(&db, &mut org, &mut zero, "社区清洁日").await;
    let zid = zero.get("/api/v1/certificates/issuers").await.json()["items"][0]["organization_id"].as_i64().unwrap();
    exec(&db, "UPDATE service_records SET credited_minutes = 0 WHERE person_id = (SELECT person_id FROM users WHERE username = 'zero')").await;
    let r = zero.json(Method::POST, "/api/v1/certificates", &json!({"organization_id": zid})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error_message().contains("0 小时"), "{}", r.body);
});

db_test!(ui_request_issue_download_and_verify, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    volunteer(&db, &mut county, "lihua", "李小华", 1).await;
    let (mut org_api, mut lihua_api) = (app.api("org").await, app.api("lihua").await);
    served(&db, &mut org_api, &mut lihua_api, "社区读书会").await;

    let mut vol = app.client();
    vol.login("lihua", PASSWORD).await;
    let page = vol.get("/me/record").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("申请证明") && page.body.contains("武昌区测试社工中心"), "{}", page.body);
    let org_id = between(&page.body, "name=\"organization_id\" value=\"", "\"");
    let r = vol.post_form("/certificates", &[("organization_id", &org_id), ("purpose", "评优")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = vol.get("/me/record").await;
    assert!(page.body.contains("待审核") && page.body.contains("申请办理中"), "{}", page.body);
    let r = vol.post_form("/certificates", &[("organization_id", &org_id)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("正在办理中"));

    let mut org = app.client();
    org.login("org", PASSWORD).await;
    let list = org.get("/certificates").await;
    assert!(list.body.contains("李小华") && list.body.contains("出具证明"), "{}", list.body);
    let id = between(&list.body, "action=\"/certificates/", "/decision");
    let r = org.post_form(&format!("/certificates/{id}/decision"), &[("action", "issue")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let list = org.get("/certificates").await;
    assert!(list.body.contains("已出具证明") && list.body.contains("撤销"), "{}", list.body);

    let page = vol.get("/me/record").await;
    assert!(page.body.contains("下载 PDF") && page.body.contains("已出具"), "{}", page.body);
    let number = between(&page.body, "<code class=\"cert-number\">", "<");
    // the verify form sends a typed number to the page the QR code opens
    let mut public = app.client();
    let r = public.get(&format!("/verify?number={}", number.to_lowercase())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let to = r.location().unwrap().to_string();
    assert_eq!(to, format!("/verify/{}", number.replace('-', "")));
    assert!(public.get(&to).await.body.contains("有效"));
    let r = public.get("/verify?number=2026-ABCD").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("17 位"), "{}", r.body);
    assert_eq!(public.get("/verify").await.status, StatusCode::OK);
    assert!(public.get("/login").await.body.contains("/verify"), "linked from the public part");
});

fn between(s: &str, start: &str, end: &str) -> String {
    let i = s.find(start).unwrap_or_else(|| panic!("{start} not in page")) + start.len();
    let j = s[i..].find(end).unwrap() + i;
    s[i..j].to_string()
}

/// GET with a Bearer token, returning the raw body bytes.
async fn raw_get(app: &TestApp, path: &str, token: &str) -> Vec<u8> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::HOST, "wushe.example.cn")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

/// The text of a PDF as a reader extracts it: every Flate stream is inflated; the ToUnicode
/// CMaps (bfchar / bfrange) map the 2-byte glyph codes of the content streams' `<…> Tj` and
/// `[…] TJ` strings back to characters. Proves the Chinese text is real text, not outlines.
fn extract_text(pdf: &[u8]) -> String {
    let mut streams = Vec::new();
    let mut i = 0;
    while let Some(p) = find(&pdf[i..], b"stream") {
        let start = i + p + 6;
        // "endstream" also contains "stream": only a keyword followed by an end of line opens one
        let body = match pdf.get(start..) {
            Some([b'\r', b'\n', ..]) => start + 2,
            Some([b'\n', ..]) => start + 1,
            _ => {
                i = start;
                continue;
            }
        };
        let Some(end) = find(&pdf[body..], b"endstream") else { break };
        let mut out = Vec::new();
        if flate2::read::ZlibDecoder::new(&pdf[body..body + end]).read_to_end(&mut out).is_ok() {
            streams.push(out);
        }
        i = body + end + 9;
    }
    assert!(!streams.is_empty(), "no Flate streams");
    let mut map: HashMap<u32, String> = HashMap::new();
    for s in &streams {
        let t = String::from_utf8_lossy(s);
        if !t.contains("begincmap") {
            continue;
        }
        for block in t.split("beginbfchar").skip(1) {
            let block = block.split("endbfchar").next().unwrap_or_default();
            let hex = hex_strings(block);
            for pair in hex.chunks(2) {
                if let [src, dst] = pair {
                    map.insert(u32::from_str_radix(src, 16).unwrap(), utf16(dst));
                }
            }
        }
        for block in t.split("beginbfrange").skip(1) {
            let block = block.split("endbfrange").next().unwrap_or_default();
            for line in block.lines() {
                let hex = hex_strings(line);
                if let [lo, hi, dst] = hex.as_slice() {
                    let (lo, hi) = (u32::from_str_radix(lo, 16).unwrap(), u32::from_str_radix(hi, 16).unwrap());
                    let base = u32::from_str_radix(dst, 16).unwrap();
                    for (k, code) in (lo..=hi).enumerate() {
                        if let Some(c) = char::from_u32(base + k as u32) {
                            map.insert(code, c.to_string());
                        }
                    }
                }
            }
        }
    }
    assert!(!map.is_empty(), "no ToUnicode map in the PDF");
    let mut text = String::new();
    for s in &streams {
        let content = [&b"BT"[..], b"ET", b" Tf"].iter().all(|k| find(s, k).is_some());
        if !content || find(s, b"begincmap").is_some() {
            continue;
        }
        // a content stream's strings are the text shown: 2-byte glyph codes (the pieces of a
        // TJ array, split for kerning, join without spaces as in any reader)
        for bytes in strings(s) {
            for pair in bytes.chunks(2) {
                if let [a, b] = pair {
                    let code = u32::from(*a) << 8 | u32::from(*b);
                    text.push_str(map.get(&code).map(String::as_str).unwrap_or("\u{fffd}"));
                }
            }
        }
        text.push('\n');
    }
    text
}

/// The literal `(…)` and hex `<…>` strings of a content stream, as bytes.
fn strings(s: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'(' => {
                let (mut depth, mut cur) = (1, Vec::new());
                i += 1;
                while i < s.len() && depth > 0 {
                    match s[i] {
                        b'\\' => {
                            i += 1;
                            match s.get(i) {
                                Some(b'n') => cur.push(b'\n'),
                                Some(b'r') => cur.push(b'\r'),
                                Some(b't') => cur.push(b'\t'),
                                Some(b'b') => cur.push(8),
                                Some(b'f') => cur.push(12),
                                Some(d @ b'0'..=b'7') => {
                                    let mut v = u32::from(d - b'0');
                                    for _ in 0..2 {
                                        match s.get(i + 1) {
                                            Some(d @ b'0'..=b'7') => {
                                                v = v * 8 + u32::from(d - b'0');
                                                i += 1;
                                            }
                                            _ => break,
                                        }
                                    }
                                    cur.push(v as u8);
                                }
                                Some(&c) => cur.push(c),
                                None => {}
                            }
                        }
                        b'(' => {
                            depth += 1;
                            cur.push(b'(');
                        }
                        b')' => {
                            depth -= 1;
                            if depth > 0 {
                                cur.push(b')');
                            }
                        }
                        c => cur.push(c),
                    }
                    i += 1;
                }
                out.push(cur);
            }
            b'<' if s.get(i + 1) != Some(&b'<') => {
                let end = s[i..].iter().position(|&c| c == b'>').map_or(s.len(), |k| i + k);
                let hex: String = s[i + 1..end].iter().map(|&c| c as char).filter(|c| c.is_ascii_hexdigit()).collect();
                out.push(
                    (0..hex.len() / 2).filter_map(|k| u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).ok()).collect(),
                );
                i = end + 1;
            }
            b'<' => i += 2,
            _ => i += 1,
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn hex_strings(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(a) = rest.find('<') {
        let Some(b) = rest[a + 1..].find('>') else { break };
        let inner: String = rest[a + 1..a + 1 + b].chars().filter(|c| !c.is_whitespace()).collect();
        if inner.chars().all(|c| c.is_ascii_hexdigit()) && !inner.is_empty() {
            out.push(inner);
        }
        rest = &rest[a + 1 + b + 1..];
    }
    out
}

fn utf16(hex: &str) -> String {
    let units: Vec<u16> = (0..hex.len())
        .step_by(4)
        .filter_map(|k| hex.get(k..k + 4).and_then(|x| u16::from_str_radix(x, 16).ok()))
        .collect();
    String::from_utf16_lossy(&units)
}
