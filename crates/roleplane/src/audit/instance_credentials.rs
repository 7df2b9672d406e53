//! The record of EC2 issuing an instance's role credentials: `AssumeRole` by the service
//! `ec2.amazonaws.com`, session name = instance id (aws-apis.md §4, imds.md). Calls later made
//! with those credentials carry the same `accessKeyId`, which links them to the instance.

use store::audit::NewEvent;
use time::OffsetDateTime;

use super::dates::{IsoSeconds, java_medium};
use super::event_id;
use super::json_text::Object;
use super::new_uuid;
use super::record::{EVENT_VERSION, epoch_ms};
use super::resources::Resources;

const EC2: &str = "ec2.amazonaws.com";

/// One credential set handed to an instance. The secret and the token are not part of it.
#[derive(Debug, Clone)]
pub struct InstanceCredentials<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub role_arn: &'a str,
    pub instance_id: &'a str,
    pub access_key_id: &'a str,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl InstanceCredentials<'_> {
    pub fn to_event(&self) -> NewEvent {
        let event_id = event_id::new(epoch_ms(self.issued_at));
        let resources = Resources::one("AWS::IAM::Role", self.role_arn);
        let mut json = String::with_capacity(1024);
        let mut record = Object::open(&mut json);
        record
            .str("eventVersion", EVENT_VERSION)
            .object("userIdentity", |identity| {
                identity.str("type", "AWSService").str("invokedBy", EC2);
            })
            .display("eventTime", IsoSeconds(self.issued_at))
            .str("eventSource", "sts.amazonaws.com")
            .str("eventName", "AssumeRole")
            .str("awsRegion", self.region)
            .str("sourceIPAddress", EC2)
            .str("userAgent", EC2)
            .object("requestParameters", |parameters| {
                parameters
                    .str("roleArn", self.role_arn)
                    .str("roleSessionName", self.instance_id);
            })
            .object("responseElements", |elements| {
                elements.object("credentials", |credentials| {
                    credentials
                        .str("accessKeyId", self.access_key_id)
                        .str("expiration", &java_medium(self.expires_at));
                });
            })
            .str("requestID", &new_uuid())
            .str("eventID", &event_id)
            // UNCONFIRMED: the samples omit readOnly here; STS's AssumeRole records say true.
            .bool("readOnly", true)
            .raw(
                "resources",
                &resources
                    .record_json(self.account_id, self.region)
                    .unwrap_or_else(|| "[]".to_owned()),
            )
            .str("eventType", "AwsApiCall")
            .bool("managementEvent", true)
            .str("recipientAccountId", self.account_id)
            .str("sharedEventID", &new_uuid())
            .str("eventCategory", "Management");
        record.end();
        NewEvent {
            event_id,
            event_time_ms: epoch_ms(self.issued_at),
            account_id: self.account_id.to_owned(),
            event_source: "sts.amazonaws.com".into(),
            event_name: "AssumeRole".into(),
            read_only: true,
            access_key_id: None,
            username: None,
            principal_arn: None,
            error_code: None,
            resources: resources.lookup_json(),
            management: true,
            record: json,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use time::macros::datetime;

    #[test]
    fn shaped_like_ec2s_own_record() {
        let issue = InstanceCredentials {
            account_id: "123456789012",
            region: "us-east-1",
            role_arn: "arn:aws:iam::123456789012:role/S3Access",
            instance_id: "i-00888ddddd3333322",
            access_key_id: "ASIAEXAMPLE",
            issued_at: datetime!(2019-12-10 01:44:26 UTC),
            expires_at: datetime!(2019-12-10 07:46:42 UTC),
        };
        let event = issue.to_event();
        let record: Value = serde_json::from_str(&event.record).unwrap();
        assert_eq!(
            record["userIdentity"],
            json!({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"})
        );
        assert_eq!(record["eventTime"], "2019-12-10T01:44:26Z");
        assert_eq!(record["sourceIPAddress"], "ec2.amazonaws.com");
        assert_eq!(
            record["requestParameters"],
            json!({"roleArn": "arn:aws:iam::123456789012:role/S3Access", "roleSessionName": "i-00888ddddd3333322"})
        );
        assert_eq!(
            record["responseElements"],
            json!({"credentials": {"accessKeyId": "ASIAEXAMPLE", "expiration": "Dec 10, 2019 7:46:42 AM"}})
        );
        assert_eq!(record["resources"][0]["type"], "AWS::IAM::Role");
        assert_eq!(record["recipientAccountId"], "123456789012");
        assert_eq!(event.event_id, record["eventID"]);
    }
}
