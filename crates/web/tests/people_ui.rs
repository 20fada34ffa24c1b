//! The people pages and bulk import through the UI (session, forms, htmx) on both backends:
//! lists, registration forms with Chinese field errors, the audited full view, permissions,
//! and an import whose report lists the bad row.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use wushe_domain::accounts::Role;
use wushe_domain::codes::citizen_id::check_char;
use wushe_testkit::http::{Client, Resp};
use wushe_testkit::{create_user, db_test, seed_cast, TestApp, PASSWORD};

/// A valid citizen ID from its first 17 digits.
fn valid_id(first17: &str) -> String {
    format!("{first17}{}", check_char(first17).expect("17 digits"))
}

/// The same ID with a wrong check character.
fn bad_id(first17: &str) -> String {
    let good = check_char(first17).expect("17 digits");
    let bad = if good == '1' { '2' } else { '1' };
    format!("{first17}{bad}")
}

async fn login(app: &TestApp, user: &str) -> Client {
    let mut c = app.client();
    let r = c.login(user, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "login {user}: {}", r.body);
    // A page gives the session's CSRF token.
    assert_eq!(c.get("/").await.status, StatusCode::OK);
    c
}

/// POST an htmx request (CSRF token in the header, as base.html configures htmx).
async fn htmx_post(c: &mut Client, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Resp {
    let csrf = c.csrf.clone().expect("csrf token");
    c.send(Method::POST, path, content_type, body, &[("x-csrf-token", csrf.as_str()), ("hx-request", "true")]).await
}

fn multipart(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----wushe-test-boundary-7d1f";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn volunteer_form<'a>(name: &'a str, id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("citizen_id", id),
        ("phone", "138 1234 5678"),
        ("division_code", "420106001001"),
        ("address", "积玉桥街道和平大道 1 号"),
        ("skills", "elder_care"),
        ("skills", "counselling"),
        ("availability", "周末上午"),
    ]
}

/// Register a volunteer through the form; returns the detail page path.
async fn register_volunteer(c: &mut Client, name: &str, id: &str) -> String {
    let r = c.post_form("/volunteers", &volunteer_form(name, id)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.location().expect("redirect").to_string();
    assert!(to.starts_with("/volunteers/"), "{to}");
    to
}

db_test!(list_pages_render_for_county_official, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = login(&app, "county").await;
    let id = valid_id("42010619900307123");
    register_volunteer(&mut c, "张晓明", &id).await;

    let r = c.get("/volunteers").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    assert!(b.contains("张晓明") && b.contains("积玉桥"), "{b}");
    assert!(b.contains("共 1 条"), "total shown");
    assert!(b.contains(&format!("{}********{}", &id[..6], &id[14..])), "masked ID in the table");
    assert!(b.contains("138****5678") && !b.contains(&id), "masked phone, never the full ID");
    assert!(b.contains("助老服务") && b.contains("心理疏导"), "skills");
    assert!(b.contains("V420106"), "volunteer number");
    assert!(b.contains("href=\"/volunteers/new\""), "register button");
    // the nav offers the people pages
    for href in ["/volunteers", "/social-workers", "/beneficiaries", "/imports"] {
        assert!(b.contains(&format!("href=\"{href}\"")), "nav link {href}");
    }

    // search by a two-character fragment and by the full ID; filters and exports keep the query
    let r = c.get("/volunteers?q=%E6%99%93%E6%98%8E&skill=counselling&sort=name").await; // 晓明
    assert!(r.body.contains("张晓明"), "{}", r.body);
    let html = r.body.replace("&#38;", "&").replace("&amp;", "&");
    for format in ["xlsx", "csv"] {
        let href =
            format!("/api/v1/volunteers?q=%E6%99%93%E6%98%8E&region=&skill=counselling&sort=name&format={format}");
        assert!(html.contains(&format!("data-export href=\"{href}\"")), "export link with the same query: {html}");
    }
    let r = c.get("/volunteers?q=%E6%9D%8E%E5%9B%9B").await; // 李四
    assert!(!r.body.contains("张晓明") && r.body.contains("没有符合条件的志愿者"));
    let r = c.get(&format!("/volunteers?q={id}")).await;
    assert!(r.body.contains("张晓明"));
    let r = c.get("/volunteers?skill=counselling&q=%E6%99%93%E6%98%8E&format=").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c.get("/api/v1/volunteers?q=%E6%99%93%E6%98%8E&region=&skill=counselling&sort=name&format=csv").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("张晓明"));
    // a bad filter is shown on the page, not as an error page
    let r = c.get("/volunteers?region=12x").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"filter-error\""), "{}", r.body);

    // the other two lists
    let r = c.get("/social-workers").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("社会工作者") && r.body.contains("继续教育") && r.body.contains("社会工作师"));
    let r = c.get("/beneficiaries").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("服务对象") && r.body.contains("留守老人"));
});

db_test!(create_form_shows_chinese_field_errors, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = login(&app, "county").await;
    let r = c.get("/volunteers/new").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("助老服务") && r.body.contains("name=\"skills\""), "skills as checkboxes");

    let bad = bad_id("42010619900307123");
    let mut form = volunteer_form("张晓明", &bad);
    form[2] = ("phone", "12345");
    let r = c.post_form("/volunteers", &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let b = &r.body;
    assert!(b.contains("data-field=\"身份证号\""), "error next to the ID field: {b}");
    assert!(b.contains("校验位错误"), "{b}");
    assert!(b.contains("data-field=\"联系电话\""), "every field error: {b}");
    assert!(b.contains("共有 2 处需要修改"), "{b}");
    // what was typed stays in the form
    assert!(
        b.contains(&format!("value=\"{bad}\"")) && b.contains("value=\"counselling\" id=\"skill-counselling\" checked")
    );
    // nothing was written
    assert!(!c.get("/volunteers").await.body.contains("张晓明"));

    // a beneficiary without a category, a social worker with a future registration date
    let id = valid_id("42010619500101002");
    let r = c
        .post_form(
            "/beneficiaries",
            &[
                ("name", "王秀英"),
                ("citizen_id", &id),
                ("division_code", "420106001001"),
                ("consent_given_by", ""),
                ("consent_on", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["对象类别", "同意人", "同意日期"] {
        assert!(r.body.contains(&format!("data-field=\"{field}\"")), "{field}: {}", r.body);
    }
    let r = c
        .post_form(
            "/social-workers",
            &[
                ("name", "李娜"),
                ("citizen_id", &valid_id("42010619850505002")),
                ("phone", "13912345678"),
                ("division_code", "420106001"),
                ("credential_level", "intermediate"),
                ("registered_on", "2999-01-01"),
                ("ce_hours", "很多"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("data-field=\"登记日期\"") && r.body.contains("不能晚于今天"), "{}", r.body);
    assert!(r.body.contains("data-field=\"继续教育学时\""), "{}", r.body);
});

db_test!(create_redirects_to_detail_and_reveal_is_audited, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = login(&app, "county").await;
    let id = valid_id("42010619900307123");
    let path = register_volunteer(&mut c, "张晓明", &id).await;
    let pid: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    let r = c.get(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("已登记志愿者：张晓明"), "flash");
    assert!(r.body.contains("id=\"person-name\">张晓明"));
    assert!(r.body.contains("心理疏导") && r.body.contains("周末上午"));
    assert!(!r.body.contains(&id), "masked by default");
    assert!(r.body.contains("查看完整信息"));
    // registering the same person again is a conflict shown at the ID field
    let r = c.post_form("/volunteers", &volunteer_form("张晓明", &id)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("data-field=\"身份证号\"") && r.body.contains("无需重复登记"), "{}", r.body);

    // the full view: an htmx fragment with the full ID and phone, and an audit entry
    let r = htmx_post(&mut c, &format!("{path}/personal-data"), None, Vec::new()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains(&id) && r.body.contains("13812345678"), "{}", r.body);
    assert!(r.body.contains("此次查看已记入审计日志"));
    let audit = c.get("/api/v1/audit?action=view_personal_data").await.json();
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{audit}");
    assert_eq!(items[0]["entity_id"], pid.to_string());
    // without the CSRF token the full view is refused
    let r = c.send(Method::POST, &format!("{path}/personal-data"), None, Vec::new(), &[("hx-request", "true")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // organization staff do not get the button, nor the full view
    let mut org = login(&app, "org").await;
    let r = org.get("/volunteers").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("张晓明"), "not a volunteer of their organization");
    let r = htmx_post(&mut org, &format!("{path}/personal-data"), None, Vec::new()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

db_test!(volunteer_role_is_refused, |db| async move {
    seed_cast(&db).await;
    create_user(&db, "vol", Role::Volunteer, "420106001", None).await;
    let app = TestApp::new(db.clone());
    let mut c = login(&app, "vol").await;
    let home = c.get("/").await.body;
    assert!(!home.contains("href=\"/volunteers\"") && !home.contains("href=\"/imports\""), "no people nav");
    for path in ["/volunteers", "/social-workers", "/beneficiaries", "/volunteers/new", "/imports"] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(r.body.contains("无权"), "{path}: {}", r.body);
    }
    let r = c.post_form("/volunteers", &volunteer_form("张晓明", &valid_id("42010619900307123"))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (ct, body) = multipart("v.csv", "姓名,身份证号,所在区划\n".as_bytes());
    let r = htmx_post(&mut c, "/imports/volunteers", Some(&ct), body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

/// Poll the progress fragment until the import has finished; returns the last fragment.
async fn wait_finished(c: &mut Client, job: &str) -> String {
    for _ in 0..200 {
        let r = c.send(Method::GET, &format!("{job}/progress"), None, Vec::new(), &[("hx-request", "true")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body.contains("data-finished=\"1\"") {
            assert!(!r.body.contains("hx-trigger"), "polling stops when finished");
            return r.body;
        }
        assert!(r.body.contains("hx-trigger=\"every 500ms\""), "polls while running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {job} did not finish");
}

db_test!(import_reports_bad_row_then_writes_fixed_file, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = login(&app, "county").await;
    let page = c.get("/imports").await;
    assert_eq!(page.status, StatusCode::OK);
    for kind in ["organizations", "volunteers", "social_workers", "beneficiaries"] {
        assert!(page.body.contains(&format!("/api/v1/imports/{kind}/template?format=xlsx")), "{kind}");
        assert!(page.body.contains(&format!("/api/v1/imports/{kind}/template?format=csv")), "{kind}");
        assert!(page.body.contains(&format!("hx-post=\"/imports/{kind}\"")), "{kind}");
    }
    assert_eq!(c.get("/api/v1/imports/volunteers/template?format=csv").await.status, StatusCode::OK);

    let good = valid_id("42010619920214003");
    let bad = bad_id("42010619880808004");
    let csv = |second: &str| {
        format!(
            "姓名,身份证号,联系电话,所在区划,技能\n\
             周思远,{good},13900001111,420106001001,助老服务\n\
             吴雨桐,{second},13900002222,420106001002,心理疏导、法律咨询\n"
        )
    };
    // without the CSRF header the upload is refused
    let (ct, body) = multipart("志愿者.csv", csv(&bad).as_bytes());
    let r = c.send(Method::POST, "/imports/volunteers", Some(&ct), body.clone(), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = htmx_post(&mut c, "/imports/volunteers", Some(&ct), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let job = r.headers.get("hx-redirect").expect("HX-Redirect").to_str().unwrap().to_string();
    assert!(job.starts_with("/imports/jobs/"), "{job}");
    let p = c.get(&job).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("志愿者.csv") && p.body.contains("id=\"import-progress\""));
    let done = wait_finished(&mut c, &job).await;
    assert!(done.contains("文件有 1 处问题，未写入任何数据"), "{done}");
    assert!(done.contains("id=\"import-errors\""));
    assert!(
        done.contains("<td class=\"num\">3</td><td class=\"text-nowrap\">身份证号</td><td>校验位错误"),
        "row 3, column 身份证号: {done}"
    );
    assert!(!c.get("/volunteers").await.body.contains("周思远"), "nothing written");
    // another user cannot see the job
    let mut other = login(&app, "province").await;
    assert_eq!(other.get(&job).await.status, StatusCode::NOT_FOUND);

    // the fixed file (posted as a plain form: a redirect instead of HX-Redirect)
    let fixed = valid_id("42010619880808004");
    let (ct, body) = multipart("志愿者.csv", csv(&fixed).as_bytes());
    let csrf = c.csrf.clone().unwrap();
    let r = c.send(Method::POST, "/imports/volunteers", Some(&ct), body, &[("x-csrf-token", csrf.as_str())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let job = r.location().unwrap().to_string();
    let done = wait_finished(&mut c, &job).await;
    assert!(done.contains("导入完成"), "{done}");
    assert!(done.contains("id=\"count-created\">2<"), "{done}");
    let list = c.get("/volunteers?q=%E6%80%9D%E8%BF%9C").await.body; // 思远
    assert!(list.contains("周思远") && !list.contains("吴雨桐"), "{list}");
    // the same file again: skipped
    let (ct, body) = multipart("志愿者.csv", csv(&fixed).as_bytes());
    let r = htmx_post(&mut c, "/imports/volunteers", Some(&ct), body).await;
    let job = r.headers.get("hx-redirect").unwrap().to_str().unwrap().to_string();
    let done = wait_finished(&mut c, &job).await;
    assert!(done.contains("id=\"count-skipped\">2<"), "{done}");
    // a file with an unknown column fails as a whole, with the reason
    let (ct, body) = multipart("x.csv", "姓名,身份证号,所在区划,爱好\n张三,1,420106,下棋\n".as_bytes());
    let r = htmx_post(&mut c, "/imports/volunteers", Some(&ct), body).await;
    let job = r.headers.get("hx-redirect").unwrap().to_str().unwrap().to_string();
    let done = wait_finished(&mut c, &job).await;
    assert!(done.contains("id=\"import-failure\"") && done.contains("爱好"), "{done}");
});
