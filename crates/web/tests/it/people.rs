//! People through the API on both backends: validation with Chinese field errors, one person
//! per citizen ID across roles, search by fragment / ID / phone / number, masking and the
//! audited full view, scope (regions and organizations), exports and bulk imports.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use wushe_testkit::{citizen_id, create_org, create_user, db_test, seed_cast, Client, TestApp};

fn volunteer(name: &str, id: &str, phone: &str, division: &str) -> Value {
    json!({"name": name, "citizen_id": id, "phone": phone, "division_code": division, "skills": ["心理疏导", "legal"],
           "availability": "周末"})
}

fn items(r: &wushe_testkit::Resp) -> Vec<Value> {
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

db_test!(register_validate_and_dedupe, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.api("county").await;
    let id = citizen_id("42010619900307123");
    let r =
        c.json(Method::POST, "/api/v1/volunteers", &volunteer("张 晓明", &id, "138 1234 5678", "420106001001")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let pid = r.json()["id"].as_i64().unwrap();
    let d = c.get(&format!("/api/v1/volunteers/{pid}")).await.json();
    let p = &d["person"];
    assert_eq!(p["name"], "张晓明");
    assert_eq!(p["citizen_id"], "420106********1234".replace("1234", &id[14..]));
    assert_eq!(p["phone"], "138****5678");
    assert_eq!(p["birth_date"], "1990-03-07");
    assert_eq!(p["gender_label"], if (id.as_bytes()[16] - b'0') % 2 == 1 { "男" } else { "女" });
    let number = p["volunteer"]["volunteer_number"].as_str().unwrap().to_string();
    assert!(number.starts_with("V420106"), "{number}");
    assert!(wushe_domain::registry::person::check_volunteer_number(&number));
    assert_eq!(p["volunteer"]["skills"][0]["label"], "心理疏导");
    assert!(!d.to_string().contains(&id), "full ID never in a normal view");

    // the same person again as a volunteer: refused; as a beneficiary: the same person record
    let r = c.json(Method::POST, "/api/v1/volunteers", &volunteer("张晓明", &id, "13812345678", "420106001001")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let b = json!({"name": "张晓明", "citizen_id": id.to_lowercase(), "division_code": "420106001001",
                   "categories": ["低保", "disabled"], "consent_given_by": "张晓明", "consent_on": "2026-01-05"});
    let r = c.json(Method::POST, "/api/v1/beneficiaries", &b).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["id"].as_i64().unwrap(), pid, "one person per citizen ID");
    let d = c.get(&format!("/api/v1/beneficiaries/{pid}")).await.json();
    assert_eq!(d["person"]["beneficiary"]["categories"].as_array().unwrap().len(), 2);
    assert_eq!(d["consents"][0]["given_by"], "张晓明");
    // same ID, another name
    let mut other = b.clone();
    other["name"] = json!("李四");
    let r = c.json(Method::POST, "/api/v1/beneficiaries", &other).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error_message().contains("姓名为「张**」"), "{}", r.body);

    // field rules, named in Chinese
    let mut bad_id = id.clone();
    bad_id.replace_range(17..18, if id.ends_with('1') { "2" } else { "1" });
    let r =
        c.json(Method::POST, "/api/v1/volunteers", &volunteer("王五", &bad_id, "13812345679", "420106001001")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "身份证号");
    assert!(r.error_message().contains("校验"), "{}", r.body);
    let minor = citizen_id("42010620150101002");
    let r =
        c.json(Method::POST, "/api/v1/volunteers", &volunteer("王小五", &minor, "13812345679", "420106001001")).await;
    assert_eq!(r.json()["error"]["field"], "监护人姓名", "{}", r.body);
    let mut with_guardian = volunteer("王小五", &minor, "13812345679", "420106001001");
    with_guardian["guardian_name"] = json!("王大五");
    with_guardian["guardian_phone"] = json!("13900001111");
    with_guardian["guardian_consent_on"] = json!("2026-10-01");
    assert_eq!(c.json(Method::POST, "/api/v1/volunteers", &with_guardian).await.status, StatusCode::CREATED);
    let r = c
        .json(
            Method::POST,
            "/api/v1/volunteers",
            &volunteer("赵六", &citizen_id("42010619800101003"), "12345", "420106001001"),
        )
        .await;
    assert_eq!(r.json()["error"]["field"], "联系电话");
    let r = c
        .json(
            Method::POST,
            "/api/v1/volunteers",
            &volunteer("赵六", &citizen_id("42010619800101003"), "13700000000", "420111001001"),
        )
        .await;
    assert_eq!(r.json()["error"]["field"], "所在区划");
    assert!(r.error_message().contains("管辖范围"));
    let mut unknown_skill = volunteer("赵六", &citizen_id("42010619800101003"), "13700000000", "420106001001");
    unknown_skill["skills"] = json!(["唱歌"]);
    assert!(c.json(Method::POST, "/api/v1/volunteers", &unknown_skill).await.error_message().contains("唱歌"));
    let sw = json!({"name": "钱七", "citizen_id": citizen_id("42010619850505004"), "phone": "13600000000",
                    "division_code": "420106001", "credential_level": "社会工作师", "registered_on": "2024-05-10",
                    "ce_hours": 30, "station_code": "420106001"});
    let r = c.json(Method::POST, "/api/v1/social-workers", &sw).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let d = c.get(&format!("/api/v1/social-workers/{}", r.json()["id"])).await.json();
    let f = &d["person"]["social_worker"];
    assert_eq!(f["valid_until"], "2027-05-10");
    assert_eq!(f["ce_required"], 90);
    assert_eq!(f["ce_met"], false);
});

db_test!(search_by_fragment_id_phone_and_number, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.api("county").await;
    let people = [
        ("欧阳社工", "42010619900101011", "13811110001"),
        ("李慈善", "42010619900101021", "13811110002"),
        ("王社会", "42010619900101031", "13811110003"),
    ];
    for (name, first17, phone) in people {
        let r = c
            .json(Method::POST, "/api/v1/volunteers", &volunteer(name, &citizen_id(first17), phone, "420106001002"))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let names =
        |r: &wushe_testkit::Resp| items(r).iter().map(|i| i["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names(&c.get("/api/v1/volunteers?q=%E7%A4%BE%E5%B7%A5").await), ["欧阳社工"]); // 社工
    assert_eq!(names(&c.get("/api/v1/volunteers?q=%E7%A4%BE").await).len(), 2); // 社
    assert_eq!(names(&c.get("/api/v1/volunteers?q=%E6%85%88%E5%96%84").await), ["李慈善"]); // 慈善
    let id = citizen_id("42010619900101031");
    assert_eq!(names(&c.get(&format!("/api/v1/volunteers?q={id}")).await), ["王社会"]);
    assert_eq!(names(&c.get("/api/v1/volunteers?q=138-1111-0002").await), ["李慈善"]);
    let list = c.get("/api/v1/volunteers?sort=name").await;
    assert_eq!(list.json()["total"], 3);
    assert_eq!(list.json()["total_capped"], false);
    let number = items(&list)[0]["volunteer"]["volunteer_number"].as_str().unwrap().to_string();
    assert_eq!(c.get(&format!("/api/v1/volunteers?q={}", number.to_lowercase())).await.json()["total"], 1);
    assert_eq!(c.get("/api/v1/volunteers?region=420106002").await.json()["total"], 0);
    assert_eq!(c.get("/api/v1/volunteers?skill=legal").await.json()["total"], 3);
    assert_eq!(c.get("/api/v1/volunteers?skill=driving").await.json()["total"], 0);
    assert_eq!(c.get("/api/v1/volunteers?skill=nonsense").await.status, StatusCode::UNPROCESSABLE_ENTITY);
});

db_test!(scope_regions_and_organizations, |db| async move {
    let cast = seed_cast(&db).await;
    let org_b = create_org(&db, "武昌区另一家社工中心", "420106000000").await;
    create_user(&db, "orgb", wushe_domain::accounts::Role::OrgStaff, "420106", Some(org_b)).await;
    create_user(&db, "vol", wushe_domain::accounts::Role::Volunteer, "420106", None).await;
    let app = TestApp::new(db.clone());
    // the organization registers its own volunteer; the county registers one with no organization
    let mut org_a = app.api("org").await;
    let id_a = citizen_id("42010619920202011");
    let mut v = volunteer("孙志愿", &id_a, "13511112222", "420111001001");
    // staff always act for their own organization: naming another is refused, not ignored
    v["organization_id"] = json!(org_b);
    let r = org_a.json(Method::POST, "/api/v1/volunteers", &v).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.error_message().contains("本组织"), "{}", r.body);
    v["organization_id"] = json!(cast.org);
    let r = org_a.json(Method::POST, "/api/v1/volunteers", &v).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let pid_a = r.json()["id"].as_i64().unwrap();
    let mut county = app.api("county").await;
    let r = county
        .json(
            Method::POST,
            "/api/v1/volunteers",
            &volunteer("周居民", &citizen_id("42010619920202021"), "13511113333", "420106001001"),
        )
        .await;
    let pid_c = r.json()["id"].as_i64().unwrap();

    // organization A sees its volunteer (who lives in another county) and not the county's one
    let l = org_a.get("/api/v1/volunteers").await;
    assert_eq!(l.json()["total"], 1);
    assert_eq!(org_a.get(&format!("/api/v1/volunteers/{pid_c}")).await.status, StatusCode::NOT_FOUND);
    // organization staff never get the full view
    assert_eq!(org_a.get(&format!("/api/v1/volunteers/{pid_a}/personal-data")).await.status, StatusCode::FORBIDDEN);
    // organization B sees nothing of A's volunteers, by list, search, ID, detail or export
    let mut b = app.api("orgb").await;
    assert_eq!(b.get("/api/v1/volunteers").await.json()["total"], 0);
    assert_eq!(b.get(&format!("/api/v1/volunteers?q={id_a}")).await.json()["total"], 0);
    assert_eq!(b.get(&format!("/api/v1/volunteers/{pid_a}")).await.status, StatusCode::NOT_FOUND);
    let csv = b.get("/api/v1/volunteers?format=csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(!csv.body.contains("孙志愿"));
    // county 洪山区 sees A's volunteer (home region 420111) but not 武昌区 residents
    let mut county2 = app.api("county2").await;
    assert_eq!(county2.get("/api/v1/volunteers").await.json()["total"], 1);
    assert_eq!(county2.get(&format!("/api/v1/volunteers/{pid_c}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(county2.get(&format!("/api/v1/volunteers/{pid_c}/personal-data")).await.status, StatusCode::NOT_FOUND);
    // volunteers and residents have no access to the registry of people
    let mut vol = app.api("vol").await;
    assert_eq!(vol.get("/api/v1/volunteers").await.status, StatusCode::FORBIDDEN);
    assert_eq!(vol.get("/api/v1/beneficiaries").await.status, StatusCode::FORBIDDEN);

    // the station worker of 积玉桥街道 sees the full data of a resident there; the view is audited
    let mut station = app.api("station").await;
    let full = station.get(&format!("/api/v1/volunteers/{pid_c}/personal-data")).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.body);
    assert_eq!(full.json()["citizen_id"], citizen_id("42010619920202021"));
    assert_eq!(full.json()["phone"], "13511113333");
    let audit = county.get("/api/v1/audit?action=view_personal_data").await;
    assert!(audit.body.contains(&pid_c.to_string()), "{}", audit.body);
    // the county official's export carries full data, organization staff's is masked
    let csv = county.get("/api/v1/volunteers?format=csv").await;
    assert!(csv.body.contains(&citizen_id("42010619920202021")));
    let csv = org_a.get("/api/v1/volunteers?format=csv").await;
    assert!(csv.body.contains("孙志愿") && csv.body.contains("135****2222") && !csv.body.contains(&id_a));
    let _ = cast;
});

/// A volunteer CSV of `n` rows (valid unless `bad_row` is given: that data row gets a bad
/// check digit). Data row i is spreadsheet row i + 2.
fn volunteer_csv(n: usize, bad_row: Option<usize>) -> String {
    const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
    const GIVEN: &[&str] = &["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋"];
    let mut s = String::from("姓名,身份证号,联系电话,所在区划,技能\n");
    for i in 0..n {
        let name = format!("{}{}{}", SURNAMES[i % 10], GIVEN[(i / 10) % 10], GIVEN[(i / 100) % 10]);
        // distinct IDs: day of 2000 plus a 3-digit sequence
        let day = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days((i / 900) as i64);
        let first17 = format!("420106{}{:03}", day.format("%Y%m%d"), i % 900 + 100);
        let mut id = citizen_id(&first17);
        if bad_row == Some(i) {
            let last = if id.ends_with('0') { '1' } else { '0' };
            id.replace_range(17..18, &last.to_string());
        }
        s.push_str(&format!("{name},{id},139{:08},420106001001,助老服务\n", i));
    }
    s
}

db_test!(import_checks_every_row_and_is_idempotent, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.api("county").await;
    // one bad row among 10,000: nothing written, the row and column named
    let r = c.upload("/api/v1/imports/volunteers", "志愿者.csv", volunteer_csv(10_000, Some(6_789)).as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &r.body[..r.body.len().min(500)]);
    let rep = r.json();
    assert_eq!(rep["written"], false);
    assert_eq!(rep["rows"], 10_000);
    assert_eq!(rep["error_count"], 1);
    assert_eq!(rep["errors"][0]["row"], 6_789 + 2);
    assert_eq!(rep["errors"][0]["column"], "身份证号");
    assert!(rep["errors"][0]["message"].as_str().unwrap().contains("校验"));
    assert_eq!(c.get("/api/v1/volunteers").await.json()["total"], 0);
    // the fixed file is written in full, once
    let good = volunteer_csv(10_000, None);
    let r = c.upload("/api/v1/imports/volunteers", "志愿者.csv", good.as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", &r.body[..r.body.len().min(500)]);
    assert_eq!(r.json()["created"], 10_000);
    assert_eq!(c.get("/api/v1/volunteers?per_page=1").await.json()["total"], 10_000);
    let r = c.upload("/api/v1/imports/volunteers", "志愿者.csv", good.as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["created"], 0);
    assert_eq!(r.json()["skipped"], 10_000);
    assert_eq!(c.get("/api/v1/volunteers?per_page=1").await.json()["total"], 10_000);
    // volunteer numbers are unique and sequential per county
    let first = c.get("/api/v1/volunteers?sort=name&per_page=200").await;
    let mut numbers: Vec<String> =
        items(&first).iter().map(|i| i["volunteer"]["volunteer_number"].as_str().unwrap().to_string()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 200);
});

db_test!(import_reports_every_kind_of_problem, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.api("county").await;
    let ok = citizen_id("42010619900101051");
    c.json(
        Method::POST,
        "/api/v1/volunteers",
        &volunteer("已登记", &citizen_id("42010619900101061"), "13800000061", "420106001001"),
    )
    .await;
    let csv = format!(
        "姓名,身份证号,联系电话,所在区划\n\
         正常人,{ok},13800000051,420106001001\n\
         重复人,{ok},13800000052,420106001001\n\
         未知区,{},13800000053,420106999999\n\
         冒名人,{},13800000054,420106001001\n\
         坏电话,{},12345,420106001001\n",
        citizen_id("42010619900101071"),
        citizen_id("42010619900101061"),
        citizen_id("42010619900101081"),
    );
    let r = c.upload("/api/v1/imports/volunteers", "v.csv", csv.as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let errs = r.json()["errors"].as_array().cloned().unwrap();
    let find = |row: i64| errs.iter().find(|e| e["row"] == row).cloned().unwrap_or(Value::Null);
    assert!(find(3)["message"].as_str().unwrap().contains("第 2 行"), "{errs:?}");
    assert_eq!(find(4)["column"], "所在区划");
    assert!(find(4)["message"].as_str().unwrap().contains("不存在"));
    assert!(find(5)["message"].as_str().unwrap().contains("姓名为「已**」"), "{errs:?}");
    assert_eq!(find(6)["column"], "联系电话");
    assert_eq!(find(2), Value::Null);
    // header problems and the template
    let r = c.upload("/api/v1/imports/volunteers", "v.csv", "姓名,身份证,电话\n".as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error_message().contains("身份证"), "{}", r.body);
    let t = c.get("/api/v1/imports/beneficiaries/template?format=csv").await;
    assert_eq!(t.status, StatusCode::OK);
    assert!(t.body.contains("对象类别") && t.body.contains("同意人"));
    let t = c.get("/api/v1/imports/volunteers/template").await;
    assert!(t.headers["content-type"].to_str().unwrap().contains("spreadsheetml"));
    assert_eq!(c.get("/api/v1/imports/nonsense/template").await.status, StatusCode::NOT_FOUND);
    // the template unchanged has no data; filled in below its hint row, it imports
    let tpl = c.get("/api/v1/imports/volunteers/template?format=csv").await.body;
    let r = c.upload("/api/v1/imports/volunteers", "t.csv", tpl.as_bytes()).await;
    assert!(r.error_message().contains("没有数据行"), "{}", r.body);
    let filled = format!("{tpl}新来的,{},13800000091,420106001001,,,,,,,,\n", citizen_id("42010619900101091"));
    let r = c.upload("/api/v1/imports/volunteers", "t.csv", filled.as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["created"], 1);
});

db_test!(the_template_says_of_the_phone_what_the_import_checks, |db| async move {
    use wushe_web::service::import::{template, ImportKind};
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.api("county").await;
    let on = today();
    // volunteers and social workers keep a phone, as when registered one by one; beneficiaries need not
    let kinds = [
        (ImportKind::Volunteers, "", String::new(), true),
        (ImportKind::SocialWorkers, ",资格等级,登记日期", format!(",社会工作师,{on}"), true),
        (ImportKind::Beneficiaries, ",对象类别,同意人,同意日期", format!(",低保,无电话,{on}"), false),
    ];
    for (n, (kind, headers, cells, required)) in kinds.into_iter().enumerate() {
        let t = template(kind);
        let hint = &t.rows[0][t.headers.iter().position(|h| *h == "联系电话").unwrap()];
        let csv = format!(
            "姓名,身份证号,联系电话,所在区划{headers}\n无电话,{},,420106001001{cells}\n",
            citizen_id(&format!("4201061990010120{n}"))
        );
        let r = c.upload(&format!("/api/v1/imports/{}", kind.as_str()), "p.csv", csv.as_bytes()).await;
        let refused = r.json()["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["column"] == "联系电话"));
        assert_eq!(refused, required, "{}: {}", kind.as_str(), r.body);
        assert_eq!(hint.starts_with("必填。"), refused, "{}: the template says {hint}", kind.as_str());
        if !required {
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    }
});

fn today() -> String {
    wushe_web::service::registry::today().to_string()
}

/// The audit entries of one action, newest first (as the county official sees them).
async fn audit(c: &mut Client, action: &str) -> Vec<Value> {
    let r = c.get(&format!("/api/v1/audit?action={action}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    items(&r)
}

db_test!(edit_is_checked_audited_and_searchable, |db| async move {
    seed_cast(&db).await;
    create_user(&db, "vol", wushe_domain::accounts::Role::Volunteer, "420106", None).await;
    let app = TestApp::new(db.clone());
    let mut c = app.api("county").await;
    let id = citizen_id("42010619900307123");
    let r = c.json(Method::POST, "/api/v1/volunteers", &volunteer("张晓明", &id, "13811110001", "420106001001")).await;
    let pid = r.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/volunteers/{pid}");

    // the same rules as registration, in Chinese, naming the field
    let r = c.json(Method::PATCH, &path, &json!({"phone": "12345"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["field"], "联系电话");
    assert!(r.error_message().contains("电话"), "{}", r.body);
    let r = c.json(Method::PATCH, &path, &json!({"phone": null})).await;
    assert_eq!(r.json()["error"]["field"], "联系电话", "volunteers keep a phone: {}", r.body);
    let r = c.json(Method::PATCH, &path, &json!({"division_code": "420111001001"})).await;
    assert_eq!(r.json()["error"]["field"], "所在区划");
    assert!(r.error_message().contains("管辖范围"));
    let r = c.json(Method::PATCH, &path, &json!({"skills": ["唱歌"]})).await;
    assert_eq!(r.json()["error"]["field"], "技能");
    for (field, name) in [("name", "姓名"), ("citizen_id", "身份证号"), ("birth_date", "出生日期")] {
        let r = c.json(Method::PATCH, &path, &json!({ field: "x" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["error"]["field"], name, "{}", r.body);
    }
    assert!(audit(&mut c, "update").await.is_empty(), "nothing written");

    // a valid edit: phone re-encrypted with its blind index and mask, other facts replaced
    let r = c
        .json(
            Method::PATCH,
            &path,
            &json!({"phone": "139 2222 3333", "address": "和平大道 2 号", "division_code": "420106001002",
                    "skills": ["elder_care", "法律咨询"], "availability": null, "latitude": 30.556, "longitude": 114.315}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = &r.json()["person"];
    assert_eq!(p["phone"], "139****3333");
    assert_eq!(p["address"], "和平大道 2 号");
    assert_eq!(p["division_code"], "420106001002");
    assert_eq!(p["name"], "张晓明", "name unchanged");
    let skills: Vec<&str> =
        p["volunteer"]["skills"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(skills, ["elder_care", "legal"]);
    assert_eq!(p["volunteer"]["skills"][0]["label"], "助老服务");
    assert_eq!(p["volunteer"]["availability"], Value::Null);
    assert_eq!(p["volunteer"]["latitude"], 30.556);
    // the list reflects it: found by the new phone, not by the old one; skill keys with `_`
    assert_eq!(c.get("/api/v1/volunteers?q=13922223333").await.json()["total"], 1);
    assert_eq!(c.get("/api/v1/volunteers?q=13811110001").await.json()["total"], 0);
    assert_eq!(c.get("/api/v1/volunteers?skill=elder_care").await.json()["total"], 1);
    assert_eq!(c.get("/api/v1/volunteers?skill=counselling").await.json()["total"], 0);
    assert_eq!(c.get("/api/v1/volunteers?region=420106001002").await.json()["total"], 1);
    let full = c.get(&format!("{path}/personal-data")).await.json();
    assert_eq!(full["phone"], "13922223333");
    // one audit entry with before and after of the changed fields, phones masked
    let entries = audit(&mut c, "update").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["entity"], "volunteer");
    assert_eq!(entries[0]["entity_id"], pid.to_string());
    let summary = entries[0]["summary"].to_string();
    assert!(summary.contains("138****0001") && summary.contains("139****3333"), "{summary}");
    assert!(!summary.contains("13922223333") && !summary.contains("13811110001"), "{summary}");
    for field in ["address", "division_code", "skills", "availability", "location"] {
        assert!(summary.contains(field), "{field}: {summary}");
    }
    assert!(!summary.contains("\\\"name\\\":{"), "unchanged fields are not listed: {summary}");
    // the same values again change nothing and are not audited
    let r = c.json(Method::PATCH, &path, &json!({"phone": "13922223333", "skills": ["legal", "elder_care"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(audit(&mut c, "update").await.len(), 1);

    // out of scope: another county's official does not find the person; other roles may not edit
    let mut county2 = app.api("county2").await;
    let r = county2.json(Method::PATCH, &path, &json!({"address": "x"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let mut vol = app.api("vol").await;
    assert_eq!(vol.json(Method::PATCH, &path, &json!({"address": "x"})).await.status, StatusCode::FORBIDDEN);
    // station staff may edit volunteers of their township but not social workers
    let mut station = app.api("station").await;
    let r = station.json(Method::PATCH, &path, &json!({"availability": "周末"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let sw = json!({"name": "钱七", "citizen_id": citizen_id("42010619850505004"), "phone": "13600000000",
                    "division_code": "420106001", "credential_level": "社会工作师", "registered_on": "2024-05-10"});
    let swid = c.json(Method::POST, "/api/v1/social-workers", &sw).await.json()["id"].as_i64().unwrap();
    let r = station.json(Method::PATCH, &format!("/api/v1/social-workers/{swid}"), &json!({"ce_hours": 10})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

db_test!(organization_staff_edit_and_release_only_their_own, |db| async move {
    let cast = seed_cast(&db).await;
    let org_b = create_org(&db, "武昌区另一家社工中心", "420106000000").await;
    create_user(&db, "orgb", wushe_domain::accounts::Role::OrgStaff, "420106", Some(org_b)).await;
    let app = TestApp::new(db.clone());
    let mut a = app.api("org").await;
    let mut b = app.api("orgb").await;
    let id_a = citizen_id("42010619920202011");
    let r =
        a.json(Method::POST, "/api/v1/volunteers", &volunteer("孙志愿", &id_a, "13511112222", "420106001001")).await;
    let pid_a = r.json()["id"].as_i64().unwrap();
    let r = b
        .json(
            Method::POST,
            "/api/v1/volunteers",
            &volunteer("周服务", &citizen_id("42010619920202021"), "13511113333", "420106001001"),
        )
        .await;
    let pid_b = r.json()["id"].as_i64().unwrap();

    // B's volunteer is not A's to edit or release
    let r = a.json(Method::PATCH, &format!("/api/v1/volunteers/{pid_b}"), &json!({"phone": "13900000000"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r =
        a.send(Method::DELETE, &format!("/api/v1/volunteers/{pid_b}/organizations/{org_b}"), None, vec![], &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // nor may A end a membership of another organization
    let r =
        a.send(Method::DELETE, &format!("/api/v1/volunteers/{pid_a}/organizations/{org_b}"), None, vec![], &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A edits its own volunteer (who may live outside A's region)
    let r =
        a.json(Method::PATCH, &format!("/api/v1/volunteers/{pid_a}"), &json!({"division_code": "420111001001"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // the volunteer leaves A: the membership ends, A no longer sees them, the history stays
    let leave = format!("/api/v1/volunteers/{pid_a}/organizations/{}?reason=%E6%90%AC%E5%AE%B6", cast.org); // 搬家
    let r = a.send(Method::DELETE, &leave, None, vec![], &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(a.get(&format!("/api/v1/volunteers/{pid_a}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(a.get("/api/v1/volunteers").await.json()["total"], 0);
    let mut county2 = app.api("county2").await; // the volunteer now lives in 洪山区
    let d = county2.get(&format!("/api/v1/volunteers/{pid_a}")).await.json();
    assert_eq!(d["organizations"].as_array().unwrap().len(), 0, "{d}");
    assert_eq!(d["past_organizations"][0]["id"], cast.org);
    assert_eq!(d["past_organizations"][0]["left_on"], today());
    assert_eq!(d["past_organizations"][0]["left_reason"], "搬家");
    let mut admin = app.api("admin").await;
    let entries = audit(&mut admin, "leave_organization").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["entity_id"], pid_a.to_string());
    // leaving twice: not a member any more
    let r = county2.send(Method::DELETE, &leave, None, vec![], &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // joining again starts a new membership; the old one stays in the history
    let mut again = volunteer("孙志愿", &id_a, "13511112222", "420111001001");
    again["organization_id"] = json!(cast.org);
    let mut province = app.api("province").await;
    let r = province.json(Method::POST, "/api/v1/volunteers", &again).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let d = county2.get(&format!("/api/v1/volunteers/{pid_a}")).await.json();
    assert_eq!(d["organizations"][0]["id"], cast.org);
    assert_eq!(d["past_organizations"].as_array().unwrap().len(), 1);
    assert_eq!(a.get("/api/v1/volunteers").await.json()["total"], 1);
});

db_test!(roles_end_and_resume_and_role_facts_change, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.api("county").await;
    let b = json!({"name": "王秀英", "citizen_id": citizen_id("42010619500101002"), "division_code": "420106001001",
                   "categories": ["低保"], "consent_given_by": "王秀英", "consent_on": "2026-01-05"});
    let bid = c.json(Method::POST, "/api/v1/beneficiaries", &b).await.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/beneficiaries/{bid}");
    let r = c.json(Method::PATCH, &path, &json!({"categories": ["高龄", "advanced_age", "留守老人"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(c.get("/api/v1/beneficiaries?category=advanced_age").await.json()["total"], 1);
    assert_eq!(c.get("/api/v1/beneficiaries?category=subsistence_allowance").await.json()["total"], 0);
    let r = c.json(Method::PATCH, &path, &json!({"categories": []})).await;
    assert_eq!(r.json()["error"]["field"], "对象类别");

    // ending the role keeps the record: out of the default list, in the ended one
    let r = c.json(Method::PATCH, &path, &json!({"ended_on": "2999-01-01"})).await;
    assert_eq!(r.json()["error"]["field"], "结束日期");
    let r = c.json(Method::PATCH, &path, &json!({"ended_on": today(), "end_reason": "已迁出"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["person"]["ended_on"], today());
    assert_eq!(r.json()["person"]["end_reason"], "已迁出");
    assert_eq!(c.get("/api/v1/beneficiaries").await.json()["total"], 0);
    assert_eq!(c.get("/api/v1/beneficiaries?status=ended").await.json()["total"], 1);
    assert_eq!(c.get("/api/v1/beneficiaries?status=all").await.json()["total"], 1);
    assert_eq!(c.get("/api/v1/beneficiaries?status=nonsense").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(c.get(&path).await.status, StatusCode::OK, "an ended role is still found");
    let r = c.json(Method::PATCH, &path, &json!({"ended_on": null})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(c.get("/api/v1/beneficiaries").await.json()["total"], 1);
    assert_eq!(audit(&mut c, "update").await.len(), 3);

    // a minor keeps a complete guardian
    let minor = json!({"name": "王小明", "citizen_id": citizen_id("42010620150101002"), "division_code": "420106001001",
        "categories": ["留守儿童"], "guardian_name": "王大明", "guardian_relation": "祖父", "guardian_phone": "13900001111",
        "consent_given_by": "王大明", "consent_on": "2026-01-05"});
    let r = c.json(Method::POST, "/api/v1/beneficiaries", &minor).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mpath = format!("/api/v1/beneficiaries/{}", r.json()["id"]);
    let r = c.json(Method::PATCH, &mpath, &json!({"guardian_name": null})).await;
    assert_eq!(r.json()["error"]["field"], "监护人姓名", "{}", r.body);
    let r = c.json(Method::PATCH, &mpath, &json!({"guardian_phone": "13900002222", "guardian_relation": "祖母"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["person"]["beneficiary"]["guardian_phone"], "139****2222");
    assert_eq!(c.get(&format!("{mpath}/personal-data")).await.json()["guardian_phone"], "13900002222");

    // social workers: credential facts, certificate numbers stay unique
    let sw = |name: &str, first17: &str, cert: &str| {
        json!({"name": name, "citizen_id": citizen_id(first17), "phone": "13600000000", "division_code": "420106001",
               "credential_level": "assistant", "registered_on": "2024-05-10", "certificate_number": cert})
    };
    let s1 = c.json(Method::POST, "/api/v1/social-workers", &sw("钱七", "42010619850505004", "SW-1")).await;
    let s1 = format!("/api/v1/social-workers/{}", s1.json()["id"]);
    c.json(Method::POST, "/api/v1/social-workers", &sw("孙八", "42010619850505012", "SW-2")).await;
    let r = c
        .json(
            Method::PATCH,
            &s1,
            &json!({"credential_level": "高级社会工作师", "ce_hours": 95, "registered_on": "2025-01-01",
                    "station_code": "420106002"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let f = &r.json()["person"]["social_worker"];
    assert_eq!(f["credential_level"], "senior");
    assert_eq!(f["valid_until"], "2028-01-01");
    assert_eq!((f["ce_required"].as_i64(), f["ce_met"].as_bool()), (Some(90), Some(true)));
    assert_eq!(f["station_code"], "420106002");
    let r = c.json(Method::PATCH, &s1, &json!({"certificate_number": "sw-2"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = c.json(Method::PATCH, &s1, &json!({"ce_hours": -1})).await;
    assert_eq!(r.json()["error"]["field"], "继续教育学时");
});

db_test!(skill_dictionary_is_kept_by_administrators, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut admin = app.api("admin").await;
    let mut c = app.api("county").await;
    let list = c.get("/api/v1/dictionaries/skills").await.json();
    assert_eq!(list.as_array().unwrap().len(), 15, "the former code-level entries, same keys: {list}");
    assert_eq!((list[0]["key"].as_str(), list[0]["label"].as_str()), (Some("elder_care"), Some("助老服务")));
    let d = c.get("/api/v1/dictionaries").await.json();
    assert_eq!(d["skills"].as_array().unwrap().len(), 15);
    assert_eq!(d["beneficiary_categories"].as_array().unwrap().len(), 11);

    // only administrators change it; keys and labels are checked and unique
    let new = json!({"key": "first_aid", "label": "急救培训"});
    assert_eq!(c.json(Method::POST, "/api/v1/dictionaries/skills", &new).await.status, StatusCode::FORBIDDEN);
    let r = admin.json(Method::POST, "/api/v1/dictionaries/skills", &new).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["sort_order"], 160);
    assert_eq!(admin.json(Method::POST, "/api/v1/dictionaries/skills", &new).await.status, StatusCode::CONFLICT);
    let clash = json!({"key": "first_aid2", "label": "助老服务"});
    assert_eq!(admin.json(Method::POST, "/api/v1/dictionaries/skills", &clash).await.status, StatusCode::CONFLICT);
    let r = admin.json(Method::POST, "/api/v1/dictionaries/skills", &json!({"key": "急救", "label": "急救"})).await;
    assert_eq!(r.json()["error"]["field"], "代码", "{}", r.body);
    let r =
        admin.json(Method::POST, "/api/v1/dictionaries/skills", &json!({"key": "aid", "label": "急救、培训"})).await;
    assert_eq!(r.json()["error"]["field"], "名称", "{}", r.body);

    // the new skill is accepted by label or key; labels come from the table
    let mut v = volunteer("张晓明", &citizen_id("42010619900307123"), "13811110001", "420106001001");
    v["skills"] = json!(["急救培训"]);
    let r = c.json(Method::POST, "/api/v1/volunteers", &v).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let pid = r.json()["id"].as_i64().unwrap();
    let r = admin.json(Method::PATCH, "/api/v1/dictionaries/skills/first_aid", &json!({"label": "应急救护"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = c.get(&format!("/api/v1/volunteers/{pid}")).await.json();
    assert_eq!(d["person"]["volunteer"]["skills"][0]["label"], "应急救护");
    assert!(c.get("/api/v1/volunteers?format=csv").await.body.contains("应急救护"), "exports use the table's labels");

    // deactivated: no longer offered or accepted as a new choice, kept by who holds it
    let r = admin.json(Method::PATCH, "/api/v1/dictionaries/skills/first_aid", &json!({"active": false})).await;
    assert_eq!(r.json()["active"], false);
    let d = c.get("/api/v1/dictionaries").await.json();
    assert!(!d["skills"].to_string().contains("first_aid"));
    let mut v2 = volunteer("李慈善", &citizen_id("42010619900101021"), "13811110002", "420106001001");
    v2["skills"] = json!(["first_aid"]);
    let r = c.json(Method::POST, "/api/v1/volunteers", &v2).await;
    assert_eq!(r.json()["error"]["field"], "技能", "{}", r.body);
    let csv = format!(
        "姓名,身份证号,联系电话,所在区划,技能\n李慈善,{},13811110002,420106001001,应急救护\n",
        citizen_id("42010619900101021")
    );
    let r = c.upload("/api/v1/imports/volunteers", "v.csv", csv.as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["errors"][0]["column"], "技能");
    let r =
        c.json(Method::PATCH, &format!("/api/v1/volunteers/{pid}"), &json!({"skills": ["first_aid", "legal"]})).await;
    assert_eq!(r.status, StatusCode::OK, "a held skill is kept: {}", r.body);
    assert_eq!(c.get("/api/v1/volunteers?skill=first_aid").await.json()["total"], 1, "retired skills still filter");
    assert_eq!(
        admin.json(Method::PATCH, "/api/v1/dictionaries/skills/nope", &json!({"active": false})).await.status,
        StatusCode::NOT_FOUND
    );
    let entries = audit(&mut admin, "update").await;
    assert!(entries.iter().any(|e| e["entity"] == "skill" && e["entity_id"] == "first_aid"), "{entries:?}");
    let list = c.get("/api/v1/dictionaries/skills").await.json();
    assert_eq!(list.as_array().unwrap().len(), 16, "never deleted");
});
