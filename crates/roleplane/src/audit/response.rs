//! `responseElements`: CloudTrail keeps them for calls that create or change something and for
//! the credential calls; reads record `null`. We record the credential calls' elements, read
//! out of our own XML response, and by construction never the secret key or the session token:
//! only the named elements below are copied.

use serde_json::{Map, Value};

use super::dates::java_medium_from_iso;

pub fn elements(event_name: &str, xml: &str) -> Value {
    match event_name {
        "AssumeRole" | "AssumeRoleWithWebIdentity" => {
            let mut out = Map::new();
            out.insert("credentials".into(), credentials(xml));
            for (element, key) in [
                ("SubjectFromWebIdentityToken", "subjectFromWebIdentityToken"),
                ("Audience", "audience"),
                ("Provider", "provider"),
            ] {
                if let Some(value) = text(xml, element) {
                    out.insert(key.into(), value.into());
                }
            }
            if let Some(user) = inner(xml, "AssumedRoleUser") {
                out.insert(
                    "assumedRoleUser".into(),
                    object(&[
                        ("assumedRoleId", text(user, "AssumedRoleId")),
                        ("arn", text(user, "Arn")),
                    ]),
                );
            }
            if let Some(size) = text(xml, "PackedPolicySize").and_then(|s| s.parse::<u64>().ok()) {
                out.insert("packedPolicySize".into(), size.into());
            }
            Value::Object(out)
        }
        "GetSessionToken" => {
            let mut out = Map::new();
            out.insert("credentials".into(), credentials(xml));
            Value::Object(out)
        }
        "GetFederationToken" => {
            let mut out = Map::new();
            out.insert("credentials".into(), credentials(xml));
            if let Some(user) = inner(xml, "FederatedUser") {
                out.insert(
                    "federatedUser".into(),
                    object(&[
                        ("federatedUserId", text(user, "FederatedUserId")),
                        ("arn", text(user, "Arn")),
                    ]),
                );
            }
            if let Some(size) = text(xml, "PackedPolicySize").and_then(|s| s.parse::<u64>().ok()) {
                out.insert("packedPolicySize".into(), size.into());
            }
            Value::Object(out)
        }
        "CreateAccessKey" => match inner(xml, "AccessKey") {
            Some(key) => {
                let mut out = Map::new();
                out.insert(
                    "accessKey".into(),
                    object(&[
                        ("userName", text(key, "UserName")),
                        ("accessKeyId", text(key, "AccessKeyId")),
                        ("status", text(key, "Status")),
                        (
                            "createDate",
                            text(key, "CreateDate").map(|t| java_medium_from_iso(&t)),
                        ),
                    ]),
                );
                Value::Object(out)
            }
            None => Value::Null,
        },
        // The agent API's fetch of an instance's set (JSON): which set, never its secret.
        "GetInstanceCredentials" => agent_credentials(xml),
        _ => Value::Null,
    }
}

fn credentials(xml: &str) -> Value {
    let Some(credentials) = inner(xml, "Credentials") else {
        return Value::Null;
    };
    object(&[
        ("accessKeyId", text(credentials, "AccessKeyId")),
        (
            "expiration",
            text(credentials, "Expiration").map(|t| java_medium_from_iso(&t)),
        ),
    ])
}

fn object(fields: &[(&str, Option<String>)]) -> Value {
    Value::Object(
        fields
            .iter()
            .filter_map(|(k, v)| Some(((*k).to_owned(), Value::from(v.clone()?))))
            .collect(),
    )
}

/// The content between `<name>` and `</name>`, first occurrence.
fn inner<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    Some(&xml[start..start + len])
}

/// An element's text with XML's predefined entities decoded.
fn text(xml: &str, name: &str) -> Option<String> {
    let raw = inner(xml, name)?;
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// `{"credentials": {"accessKeyId", "expiration"}}` of an agent API credentials answer, when
/// a set was issued; only those two members are copied.
fn agent_credentials(json: &str) -> Value {
    let Ok(Value::Object(answer)) = serde_json::from_str::<Value>(json) else {
        return Value::Null;
    };
    match (answer.get("accessKeyId"), answer.get("expiration")) {
        (Some(key @ Value::String(_)), Some(expiration @ Value::Number(_))) => {
            let mut credentials = Map::new();
            credentials.insert("accessKeyId".into(), key.clone());
            credentials.insert("expiration".into(), expiration.clone());
            let mut out = Map::new();
            out.insert("credentials".into(), Value::Object(credentials));
            Value::Object(out)
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A key pair's private key never reaches the trail: CreateKeyPair has no response elements.
    #[test]
    fn key_material_is_never_recorded() {
        let body = "<CreateKeyPairResponse><keyName>k</keyName>\
            <keyMaterial>-----BEGIN RSA PRIVATE KEY-----SECRET</keyMaterial></CreateKeyPairResponse>";
        assert_eq!(elements("CreateKeyPair", body), Value::Null);
    }

    const ASSUME_ROLE: &str = "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
        <Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>TOPSECRET</SecretAccessKey>\
        <SessionToken>TOKENTOKEN</SessionToken><Expiration>2019-12-10T07:46:42Z</Expiration></Credentials>\
        <AssumedRoleUser><AssumedRoleId>AROA1:s</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser>\
        <PackedPolicySize>6</PackedPolicySize></AssumeRoleResult></AssumeRoleResponse>";

    #[test]
    fn credential_calls_keep_the_key_id_and_expiry_only() {
        let value = elements("AssumeRole", ASSUME_ROLE);
        assert_eq!(
            value,
            json!({"credentials": {"accessKeyId": "ASIAEXAMPLE", "expiration": "Dec 10, 2019 7:46:42 AM"},
                   "assumedRoleUser": {"assumedRoleId": "AROA1:s", "arn": "arn:aws:sts::1:assumed-role/r/s"},
                   "packedPolicySize": 6})
        );
        let text = value.to_string();
        assert!(!text.contains("TOPSECRET") && !text.contains("TOKENTOKEN"));
        let key = "<CreateAccessKeyResult><AccessKey><UserName>a&amp;b</UserName><AccessKeyId>AKIA1</AccessKeyId>\
            <Status>Active</Status><SecretAccessKey>TOPSECRET</SecretAccessKey>\
            <CreateDate>2024-01-02T03:04:05Z</CreateDate></AccessKey></CreateAccessKeyResult>";
        let value = elements("CreateAccessKey", key);
        assert_eq!(
            value,
            json!({"accessKey": {"userName": "a&b", "accessKeyId": "AKIA1", "status": "Active",
                                 "createDate": "Jan 2, 2024 3:04:05 AM"}})
        );
        assert_eq!(elements("GetRole", "<Role/>"), Value::Null);
    }

    #[test]
    fn federation_tokens_keep_the_federated_user_and_no_secret() {
        let body = "<GetFederationTokenResult><Credentials><AccessKeyId>ASIAFED</AccessKeyId>\
            <SecretAccessKey>TOPSECRET</SecretAccessKey><SessionToken>TOKENTOKEN</SessionToken>\
            <Expiration>2019-12-10T07:46:42Z</Expiration></Credentials><FederatedUser>\
            <FederatedUserId>111111111111:bob</FederatedUserId>\
            <Arn>arn:aws:sts::111111111111:federated-user/bob</Arn></FederatedUser>\
            <PackedPolicySize>0</PackedPolicySize></GetFederationTokenResult>";
        let value = elements("GetFederationToken", body);
        assert_eq!(
            value,
            json!({"credentials": {"accessKeyId": "ASIAFED", "expiration": "Dec 10, 2019 7:46:42 AM"},
                   "federatedUser": {"federatedUserId": "111111111111:bob",
                                     "arn": "arn:aws:sts::111111111111:federated-user/bob"},
                   "packedPolicySize": 0})
        );
        let text = value.to_string();
        assert!(!text.contains("TOPSECRET") && !text.contains("TOKENTOKEN"));
    }

    #[test]
    fn an_agent_credentials_answer_keeps_its_key_id_and_expiry_only() {
        let answer = r#"{"result":"issued","accessKeyId":"ASIAEXAMPLE","secretAccessKey":"SECRET","token":"TOKEN","issuedAt":1,"expiration":2,"refreshAt":3}"#;
        let kept = elements("GetInstanceCredentials", answer);
        assert_eq!(
            kept,
            serde_json::json!({"credentials": {"accessKeyId": "ASIAEXAMPLE", "expiration": 2}})
        );
        assert_eq!(
            elements("GetInstanceCredentials", r#"{"result":"noRole"}"#),
            Value::Null
        );
        assert_eq!(elements("GetInstanceCredentials", "not json"), Value::Null);
    }
}
