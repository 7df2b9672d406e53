//! The record of EC2 issuing an instance's role credentials: `AssumeRole` by the service
//! `ec2.amazonaws.com`, session name = instance id (aws-apis.md §4, imds.md). Calls later made
//! with those credentials carry the same `accessKeyId`, which links them to the instance.

use serde_json::{Map, Value, json};
use store::audit::NewEvent;
use time::OffsetDateTime;

use super::dates::{iso_seconds, java_medium};
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
        let event_id = super::new_event_id(epoch_ms(self.issued_at));
        let resources = Resources::one("AWS::IAM::Role", self.role_arn);
        let mut record = Map::with_capacity(20);
        record.insert("eventVersion".into(), EVENT_VERSION.into());
        record.insert(
            "userIdentity".into(),
            json!({"type": "AWSService", "invokedBy": EC2}),
        );
        record.insert("eventTime".into(), iso_seconds(self.issued_at).into());
        record.insert("eventSource".into(), "sts.amazonaws.com".into());
        record.insert("eventName".into(), "AssumeRole".into());
        record.insert("awsRegion".into(), self.region.into());
        record.insert("sourceIPAddress".into(), EC2.into());
        record.insert("userAgent".into(), EC2.into());
        record.insert(
            "requestParameters".into(),
            json!({"roleArn": self.role_arn, "roleSessionName": self.instance_id}),
        );
        record.insert(
            "responseElements".into(),
            json!({"credentials": {
                "accessKeyId": self.access_key_id,
                "expiration": java_medium(self.expires_at),
            }}),
        );
        record.insert("requestID".into(), new_uuid().into());
        record.insert("eventID".into(), event_id.as_str().into());
        // UNCONFIRMED: the samples omit readOnly here; STS's AssumeRole records say true.
        record.insert("readOnly".into(), true.into());
        record.insert(
            "resources".into(),
            Value::Array(resources.record_entries(self.account_id, self.region)),
        );
        record.insert("eventType".into(), "AwsApiCall".into());
        record.insert("managementEvent".into(), true.into());
        record.insert("recipientAccountId".into(), self.account_id.into());
        record.insert("sharedEventID".into(), new_uuid().into());
        record.insert("eventCategory".into(), "Management".into());
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
            record: Value::Object(record).to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
