//! Shortcuts through the volunteer-service API that many tests take: a volunteer with a login
//! of their own, and a service signed up for, attended and confirmed.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use serde_json::{json, Value};
use wushe_domain::accounts::Role;
use wushe_store::accounts::users;
use wushe_store::{on_tx, Db};

use crate::{create_user, Client};

/// Register a volunteer through the API as `official` (`body` as `POST /api/v1/volunteers`
/// takes it) and give them a login `username` scoped to their home county; returns the
/// person id.
pub async fn register_volunteer(db: &Db, official: &mut Client, username: &str, body: &Value) -> i64 {
    let r = official.json(Method::POST, "/api/v1/volunteers", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let pid = r.json()["id"].as_i64().expect("person id");
    let home = body["division_code"].as_str().expect("division_code");
    let uid = create_user(db, username, Role::Volunteer, &home[..6], None).await;
    let mut tx = db.begin().await.expect("begin");
    users::link_person(&mut tx, uid, pid).await.expect("link person");
    tx.commit().await.expect("commit");
    pid
}

/// Move the check-in of an attendance `ago` into the past: services in tests are checked in
/// and out within a second, and hours are credited only for time actually served.
pub async fn backdate_check_in(db: &Db, attendance: i64, ago: Duration) {
    backdate(db, "id", attendance, ago).await;
}

/// Move every check-in at `activity` `ago` into the past.
pub async fn backdate_check_ins_of_activity(db: &Db, activity: i64, ago: Duration) {
    backdate(db, "activity_id", activity, ago).await;
}

async fn backdate(db: &Db, column: &str, id: i64, ago: Duration) {
    let at = wushe_store::time::now() - ago;
    let sql = format!("UPDATE attendance SET checked_in_at = $1 WHERE {column} = $2");
    let mut tx = db.begin().await.expect("begin");
    on_tx!(&mut tx, |c| sqlx::query(&sql).bind(at).bind(id).execute(c).await.map(|r| r.rows_affected()))
        .expect("backdate check-in");
    tx.commit().await.expect("commit");
}

/// A confirmed service, as `serve` left it.
#[derive(Debug, Clone, Copy)]
pub struct Served {
    pub record_id: i64,
    pub attendance_id: i64,
    pub credited_minutes: i64,
}

/// `vol` signs up for `slot` of activity `aid` (approved at once); the organization checks
/// them in `minutes` ago and out now, then confirms the hours.
pub async fn serve(db: &Db, org: &mut Client, vol: &mut Client, (aid, slot): (i64, i64), minutes: i64) -> Served {
    let r = vol.json(Method::POST, &format!("/api/v1/activities/{aid}/signups"), &json!({"slot_id": slot})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["status"], "approved", "{}", r.body);
    let sid = r.json()["signup_id"].clone();
    let r = org.json(Method::POST, "/api/v1/attendance/check-in", &json!({"activity_id": aid, "signup_id": sid})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let attendance_id = r.json()["attendance_id"].as_i64().expect("attendance id");
    backdate_check_in(db, attendance_id, Duration::minutes(minutes)).await;
    let r =
        org.json(Method::POST, "/api/v1/attendance/check-out", &json!({"activity_id": aid, "signup_id": sid})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = org
        .json(Method::POST, "/api/v1/service-records/confirm", &json!({"items": [{"attendance_id": attendance_id}]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let rec = &r.json()[0];
    Served {
        record_id: rec["record_id"].as_i64().expect("record id"),
        attendance_id,
        credited_minutes: rec["credited_minutes"].as_i64().expect("credited minutes"),
    }
}
