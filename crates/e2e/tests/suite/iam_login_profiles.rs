//! Login profiles through aws-sdk-iam, with AWS's recorded answers (LocalStack's
//! test_iam_users.py): the profile's life, its errors, DeleteUser's conflict, a rename, the
//! credential report's password columns, and the password itself reaching no file or log.

use e2e::{ACCOUNT_ID, Server, failure};

const PASSWORD: &str = "Login-Profile-Secret-7";
const NEW_PASSWORD: &str = "Changed-Profile-Secret-8";

/// Every file under `dir`, recursively.
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn login_profiles_live_as_aws_records_them_and_the_password_is_kept_nowhere() {
    let server = Server::start();
    let iam = server.iam().await;
    iam.create_user().user_name("alice").send().await.unwrap();

    let created = iam
        .create_login_profile()
        .user_name("alice")
        .password(PASSWORD)
        .password_reset_required(false)
        .send()
        .await
        .expect("CreateLoginProfile");
    let profile = created.login_profile().unwrap();
    assert_eq!(profile.user_name(), "alice");
    assert!(!profile.password_reset_required());
    let got = iam
        .get_login_profile()
        .user_name("alice")
        .send()
        .await
        .expect("GetLoginProfile");
    assert_eq!(
        got.login_profile().unwrap().create_date(),
        profile.create_date()
    );

    // Errors, in AWS's recorded words.
    let (code, message, status) = failure(
        iam.create_login_profile()
            .user_name("alice")
            .password(PASSWORD)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "EntityAlreadyExists",
            "Login Profile for user alice already exists.",
            409
        )
    );
    let (code, message, status) = failure(
        iam.create_login_profile()
            .user_name("nobody")
            .password(PASSWORD)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "NoSuchEntity",
            "The user with name nobody cannot be found.",
            404
        )
    );
    // AWS's default password policy: 8 characters of three kinds at least.
    iam.create_user().user_name("weak").send().await.unwrap();
    let (code, _, status) = failure(
        iam.create_login_profile()
            .user_name("weak")
            .password("password")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("PasswordPolicyViolation", 400));

    // A user with a console password cannot be deleted until the profile goes.
    let (code, message, status) = failure(iam.delete_user().user_name("alice").send().await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "DeleteConflict",
            "Cannot delete entity, must delete login profile first.",
            409
        )
    );

    // A new password and the reset flag; the creation date stays.
    iam.update_login_profile()
        .user_name("alice")
        .password(NEW_PASSWORD)
        .password_reset_required(true)
        .send()
        .await
        .expect("UpdateLoginProfile");
    let updated = iam
        .get_login_profile()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let updated = updated.login_profile().unwrap();
    assert!(updated.password_reset_required());
    assert_eq!(updated.create_date(), profile.create_date());

    // The credential report says the user has a password that never signed in.
    iam.generate_credential_report().send().await.unwrap();
    let report = iam.get_credential_report().send().await.unwrap();
    let csv = String::from_utf8(report.content().unwrap().as_ref().to_vec()).unwrap();
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("alice,"))
        .expect("alice's row")
        .split(',')
        .collect();
    assert_eq!(row[1], format!("arn:aws:iam::{ACCOUNT_ID}:user/alice"));
    assert_eq!(row[3..5], ["true", "no_information"]);
    assert!(row[5].len() == 20 && row[5].ends_with('Z'), "{}", row[5]);
    assert_eq!(row[6..8], ["N/A", "false"]);

    // A renamed user keeps its profile under the new name.
    iam.update_user()
        .user_name("alice")
        .new_user_name("alicia")
        .send()
        .await
        .expect("UpdateUser");
    let renamed = iam
        .get_login_profile()
        .user_name("alicia")
        .send()
        .await
        .expect("GetLoginProfile after the rename");
    assert_eq!(renamed.login_profile().unwrap().user_name(), "alicia");

    iam.delete_login_profile()
        .user_name("alicia")
        .send()
        .await
        .expect("DeleteLoginProfile");
    for result in [
        failure(iam.get_login_profile().user_name("alicia").send().await),
        failure(iam.delete_login_profile().user_name("alicia").send().await),
    ] {
        assert_eq!(
            (result.0.as_str(), result.1.as_str(), result.2),
            (
                "NoSuchEntity",
                "Login Profile for User alicia cannot be found.",
                404
            )
        );
    }
    iam.delete_user()
        .user_name("alicia")
        .send()
        .await
        .expect("DeleteUser once the profile is gone");

    // Neither password reached any file of the data directory, nor the log.
    for path in files(&server.data_dir) {
        let bytes = std::fs::read(&path).unwrap_or_default();
        for secret in [PASSWORD, NEW_PASSWORD] {
            assert!(
                memchr::memmem::find(&bytes, secret.as_bytes()).is_none(),
                "{} holds a password",
                path.display()
            );
        }
    }
    assert!(server.logged(PASSWORD).is_empty() && server.logged(NEW_PASSWORD).is_empty());
}
