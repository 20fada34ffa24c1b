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

/// A multipart body with text fields and a file part, in the given order (as a browser sends
/// a form without JavaScript: fields in document order).
fn multipart_parts(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----wushe-test-boundary-plain";
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        let disposition = match file_name {
            Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv"),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// POST a multipart body as a browser does without JavaScript: no CSRF header, no htmx.
async fn post_plain(c: &mut Client, (ct, body): (String, Vec<u8>)) -> Resp {
    c.send(Method::POST, "/imports/volunteers", Some(&ct), body, &[]).await
}

/// The detail page's edit form fields with what the page shows (as a browser would post them
/// back), with some replaced.
fn edit_fields<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("phone", ""),
        ("division_code", "420106001001"),
        ("address", "积玉桥街道和平大道 1 号"),
        ("skills", "elder_care"),
        ("skills", "counselling"),
        ("availability", "周末上午"),
        ("latitude", ""),
        ("longitude", ""),
        ("ended_on", ""),
        ("end_reason", ""),
    ];
    for (k, v) in changes {
        f.retain(|(name, _)| name != k);
        f.push((k, v));
    }
    f
}

db_test!(edit_form_on_the_detail_page, |db| async move {
    let cast = seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = login(&app, "county").await;
    let id = valid_id("42010619900307123");
    let mut form = volunteer_form("张晓明", &id);
    let org = cast.org.to_string();
    form.push(("organization_id", &org));
    let r = c.post_form("/volunteers", &form).await;
    let path = r.location().expect("redirect").to_string();
    let page = c.get(&path).await;
    assert!(page.body.contains("id=\"edit-person\"") && page.body.contains(&format!("action=\"{path}/edit\"")));
    assert!(page.body.contains("value=\"积玉桥街道和平大道 1 号\""), "the form shows what is registered");
    assert!(!page.body.contains("id=\"edit-person\" open"), "closed until needed");

    // a bad phone: the page again, the form open, the problem at the field, nothing written
    let r = c.post_form(&format!("{path}/edit"), &edit_fields(&[("phone", "12345")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"edit-person\" open"), "{}", r.body);
    assert!(r.body.contains("data-field=\"联系电话\""), "{}", r.body);
    assert!(r.body.contains("value=\"12345\""), "what was typed stays");
    // without the CSRF token: refused
    let mut raw = edit_fields(&[("phone", "13922223333")]);
    raw.push(("_csrf", "wrong"));
    assert_eq!(c.post_form_raw(&format!("{path}/edit"), &raw).await.status, StatusCode::FORBIDDEN);

    // saved: a flash, the new masked phone, searchable by it
    let r = c
        .post_form(&format!("{path}/edit"), &edit_fields(&[("phone", "139 2222 3333"), ("availability", "工作日晚上")]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get(&path).await.body;
    assert!(page.contains("已保存修改") && page.contains("139****3333") && page.contains("工作日晚上"), "{page}");
    assert!(c.get("/volunteers?q=13922223333").await.body.contains("张晓明"));
    assert!(!c.get("/volunteers?q=13812345678").await.body.contains("张晓明"));
    // posting the form unchanged writes nothing
    let r = c.post_form(&format!("{path}/edit"), &edit_fields(&[("availability", "工作日晚上")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(c.get(&path).await.body.contains("没有需要保存的修改"));

    // organization staff of the volunteer's organization see the form; the volunteer leaves
    let mut org = login(&app, "org").await;
    let page = org.get(&path).await;
    assert!(page.body.contains("id=\"edit-person\""));
    assert!(page.body.contains(&format!("action=\"{path}/organizations/{}/leave\"", cast.org)));
    let r = org.post_form(&format!("{path}/organizations/{}/leave", cast.org), &[("reason", "本人申请")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some("/volunteers"));
    assert_eq!(org.get(&path).await.status, StatusCode::NOT_FOUND, "no longer theirs");
    let r = org.post_form(&format!("{path}/edit"), &edit_fields(&[])).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let page = c.get(&path).await.body;
    assert!(page.contains("id=\"past-organizations\"") && page.contains("本人申请"), "{page}");

    // ending the role from the form
    let r = c.post_form(&format!("{path}/edit"), &edit_fields(&[("ended_on", "2999-01-01")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("data-field=\"结束日期\""));
    let today = wushe_web::service::registry::today().to_string();
    let r =
        c.post_form(&format!("{path}/edit"), &edit_fields(&[("ended_on", &today), ("end_reason", "不再参加")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(c.get(&path).await.body.contains("id=\"role-ended\""));
    assert!(!c.get("/volunteers").await.body.contains("张晓明"), "the list shows current volunteers");
    assert!(c.get("/volunteers?status=ended").await.body.contains("张晓明"));
});

db_test!(skill_dictionary_page_for_administrators, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut admin = login(&app, "admin").await;
    let home = admin.get("/").await.body;
    assert!(home.contains("href=\"/dictionaries/skills\""), "linked from the navigation");
    let page = admin.get("/dictionaries/skills").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"skill-elder_care\"") && page.body.contains("value=\"助老服务\""));
    let r = admin
        .post_form("/dictionaries/skills", &[("key", "first_aid"), ("label", "急救培训"), ("sort_order", "")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(admin.get("/dictionaries/skills").await.body.contains("已添加技能：急救培训"));
    let r =
        admin.post_form("/dictionaries/skills", &[("key", "first_aid"), ("label", "急救"), ("sort_order", "")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("id=\"skill-error\"") && r.body.contains("value=\"急救\""), "{}", r.body);
    // deactivate (the checkbox left unticked)
    let r = admin.post_form("/dictionaries/skills/first_aid", &[("label", "急救培训"), ("sort_order", "5")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = admin.get("/dictionaries/skills").await.body;
    assert!(page.contains("已保存技能「急救培训」（停用）"), "{page}");
    let form = admin.get("/volunteers/new").await.body;
    assert!(!form.contains("first_aid"), "a retired skill is not offered");
    let list = admin.get("/volunteers").await.body;
    assert!(list.contains("急救培训（已停用）"), "but still filters");

    // others may look, not change
    let mut c = login(&app, "county").await;
    assert!(!c.get("/").await.body.contains("href=\"/dictionaries/skills\""));
    let page = c.get("/dictionaries/skills").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("id=\"new-skill\""));
    let r = c.post_form("/dictionaries/skills", &[("key", "singing"), ("label", "唱歌"), ("sort_order", "")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

db_test!(plain_multipart_upload_carries_the_csrf_token, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = login(&app, "county").await;
    let page = c.get("/imports").await.body;
    let token = wushe_testkit::http::find_csrf(&page).expect("token in the upload form");
    let i = page.find("id=\"upload-volunteers\"").unwrap();
    assert!(page[i..].find("name=\"_csrf\"").unwrap() < page[i..].find("name=\"file\"").unwrap(), "token first");
    // a file over the guard's 64 KiB window, to show the body reaches the handler whole:
    // 1,500 rows, the 1,234th with a bad check digit
    let mut csv = String::from("姓名,身份证号,联系电话,所在区划,技能\n");
    for i in 0..1500 {
        let first17 = format!("42010619800101{:03}", i % 900 + 100)
            .replace("19800101", &format!("1980{:02}{:02}", 1 + i / 900, 1 + i % 28));
        let id = if i == 1233 { bad_id(&first17) } else { valid_id(&first17) };
        csv.push_str(&format!("周思远,{id},139{i:08},420106001001,助老服务\n"));
    }
    assert!(csv.len() > 64 * 1024);
    // no header, no htmx: the browser posts the form itself
    let wrong =
        post_plain(&mut c, multipart_parts(&[("_csrf", None, b"wrong"), ("file", Some("v.csv"), csv.as_bytes())]))
            .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let late = post_plain(
        &mut c,
        multipart_parts(&[("file", Some("v.csv"), csv.as_bytes()), ("_csrf", None, token.as_bytes())]),
    )
    .await;
    assert_eq!(late.status, StatusCode::FORBIDDEN, "the token must come before the file");
    let none = post_plain(&mut c, multipart_parts(&[("file", Some("v.csv"), csv.as_bytes())])).await;
    assert_eq!(none.status, StatusCode::FORBIDDEN);
    let r = post_plain(
        &mut c,
        multipart_parts(&[("_csrf", None, token.as_bytes()), ("file", Some("v.csv"), csv.as_bytes())]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let job = r.location().unwrap().to_string();
    let done = wait_finished(&mut c, &job).await;
    assert!(done.contains("文件有 1 处问题"), "{done}");
    assert!(done.contains("<td class=\"num\">1235</td>"), "the whole file arrived: {done}");
});
