//! Response envelopes: where an operation's output and an error sit in the XML, per protocol.

use crate::Protocol;
use crate::error::AwsError;
use crate::xml::XmlWriter;

/// The `Content-Type` AWS sends with awsQuery and ec2Query responses.
pub const CONTENT_TYPE: &str = "text/xml";

/// The header that carries the request id next to the one in the body.
pub const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// A service's wire dialect: protocol, XML namespace and API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    pub protocol: Protocol,
    pub xmlns: &'static str,
    pub version: &'static str,
}

impl Envelope {
    pub const IAM: Envelope = Envelope {
        protocol: Protocol::AwsQuery,
        xmlns: "https://iam.amazonaws.com/doc/2010-05-08/",
        version: "2010-05-08",
    };
    pub const STS: Envelope = Envelope {
        protocol: Protocol::AwsQuery,
        xmlns: "https://sts.amazonaws.com/doc/2011-06-15/",
        version: "2011-06-15",
    };
    pub const EC2: Envelope = Envelope {
        protocol: Protocol::Ec2Query,
        xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/",
        version: "2016-11-15",
    };

    /// A successful response to `operation` (a name from our own routing table).
    ///
    /// awsQuery: `<OpResponse xmlns><OpResult>…</OpResult><ResponseMetadata><RequestId>`, with no
    /// `<OpResult>` when `output` writes nothing. ec2Query: `<OpResponse xmlns><requestId>…`
    /// followed by the output members, no wrapper.
    pub fn success(
        &self,
        operation: &str,
        request_id: &str,
        output: impl FnOnce(&mut XmlWriter),
    ) -> String {
        let mut x = XmlWriter::with_capacity(512);
        let response = Tagged(operation, "Response");
        match self.protocol {
            Protocol::AwsQuery => {
                x.push_raw("<");
                x.push_raw(operation);
                x.push_raw("Response xmlns=\"");
                x.text(self.xmlns);
                x.push_raw("\">");
                let before_result = x.len();
                let result = Tagged(operation, "Result");
                result.open(&mut x);
                let before_output = x.len();
                output(&mut x);
                if x.len() == before_output {
                    x.truncate(before_result);
                } else {
                    result.close(&mut x);
                }
                x.node("ResponseMetadata", |x| {
                    x.elem("RequestId", request_id);
                });
            }
            Protocol::Ec2Query => {
                x.push_raw(XML_DECLARATION);
                x.push_raw("<");
                x.push_raw(operation);
                x.push_raw("Response xmlns=\"");
                x.text(self.xmlns);
                x.push_raw("\">");
                x.elem("requestId", request_id);
                output(&mut x);
            }
        }
        response.close(&mut x);
        x.into_string()
    }

    /// The success response of an awsQuery operation whose output is an empty structure: AWS
    /// still sends its `<OpResult/>`, and botocore insists on it (UpdateRole is the one such
    /// operation served here).
    pub fn empty_result(&self, operation: &str, request_id: &str) -> String {
        let mut x = XmlWriter::with_capacity(256);
        let response = Tagged(operation, "Response");
        x.push_raw("<");
        x.push_raw(operation);
        x.push_raw("Response xmlns=\"");
        x.text(self.xmlns);
        x.push_raw("\"><");
        x.push_raw(operation);
        x.push_raw("Result/>");
        x.node("ResponseMetadata", |x| {
            x.elem("RequestId", request_id);
        });
        response.close(&mut x);
        x.into_string()
    }

    /// An error response and its HTTP status.
    ///
    /// awsQuery: `<ErrorResponse xmlns><Error><Type/><Code/><Message/></Error><RequestId/>`.
    /// ec2Query: `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>`
    /// (capital `ID`, as EC2 sends it).
    pub fn error(&self, err: &AwsError, request_id: &str) -> (u16, String) {
        let mut x = XmlWriter::with_capacity(256 + err.message.len());
        match self.protocol {
            Protocol::AwsQuery => {
                x.start_ns("ErrorResponse", self.xmlns);
                x.node("Error", |x| {
                    x.elem("Type", err.fault.as_str()).elem("Code", &err.code);
                    // Some errors have no message at all (IAM's ReportNotPresent).
                    if !err.message.is_empty() {
                        x.elem("Message", &err.message);
                    }
                });
                x.elem("RequestId", request_id).end("ErrorResponse");
            }
            Protocol::Ec2Query => {
                x.push_raw(XML_DECLARATION);
                x.node("Response", |x| {
                    x.node("Errors", |x| {
                        x.node("Error", |x| {
                            x.elem("Code", &err.code).elem("Message", &err.message);
                        });
                    });
                    x.elem("RequestID", request_id);
                });
            }
        }
        (err.status, x.into_string())
    }
}

/// An element name made of two parts (`GetRole` + `Response`), written without allocating.
struct Tagged<'a>(&'a str, &'static str);

impl Tagged<'_> {
    fn open(&self, x: &mut XmlWriter) {
        x.push_raw("<");
        x.push_raw(self.0);
        x.push_raw(self.1);
        x.push_raw(">");
    }

    fn close(&self, x: &mut XmlWriter) {
        x.push_raw("</");
        x.push_raw(self.0);
        x.push_raw(self.1);
        x.push_raw(">");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_success_wraps_output_in_result() {
        let body = Envelope::IAM.success("GetRole", "req-1", |x| {
            x.node("Role", |x| {
                x.elem("RoleName", "r");
            });
        });
        assert_eq!(
            body,
            "<GetRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetRoleResult><Role><RoleName>r</RoleName></Role></GetRoleResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetRoleResponse>"
        );
    }

    #[test]
    fn empty_output_has_no_result_element() {
        let body = Envelope::IAM.success("DeleteRole", "req-2", |_| {});
        assert_eq!(
            body,
            "<DeleteRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata></DeleteRoleResponse>"
        );
    }

    #[test]
    fn sts_uses_its_namespace() {
        let body = Envelope::STS.success("GetCallerIdentity", "r", |x| {
            x.elem("Account", "123456789012");
        });
        assert!(body.starts_with(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Account>"
        ));
    }

    #[test]
    fn ec2_success_has_request_id_first_and_no_wrapper() {
        let body = Envelope::EC2.success("ModifyInstanceMetadataDefaults", "abc", |x| {
            x.elem("return", true);
        });
        assert_eq!(
            body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ModifyInstanceMetadataDefaultsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>abc</requestId><return>true</return></ModifyInstanceMetadataDefaultsResponse>"
        );
    }

    #[test]
    fn query_error_envelope_is_byte_exact() {
        let err = AwsError::sender(
            "NoSuchEntity",
            404,
            "The role with name <x> cannot be found.",
        );
        let (status, body) = Envelope::IAM.error(&err, "req-3");
        assert_eq!(status, 404);
        assert_eq!(
            body,
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name &lt;x&gt; cannot be found.</Message></Error><RequestId>req-3</RequestId></ErrorResponse>"
        );
        // An error without a message has no Message element (IAM's ReportNotPresent).
        let (status, body) =
            Envelope::IAM.error(&AwsError::sender("ReportNotPresent", 410, ""), "req-5");
        assert_eq!(status, 410);
        assert_eq!(
            body,
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>ReportNotPresent</Code></Error><RequestId>req-5</RequestId></ErrorResponse>"
        );
        let (status, body) = Envelope::STS.error(&AwsError::internal(Protocol::AwsQuery), "r");
        assert_eq!(status, 500);
        assert!(
            body.contains("<Type>Receiver</Type><Code>ServiceFailure</Code>"),
            "{body}"
        );
    }

    #[test]
    fn ec2_error_envelope_is_byte_exact() {
        let err = AwsError::invalid_action(Protocol::Ec2Query, "Frob", "2016-11-15");
        let (status, body) = Envelope::EC2.error(&err, "req-4");
        assert_eq!(status, 400);
        assert_eq!(
            body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidAction</Code><Message>The action Frob is not valid for this web service.</Message></Error></Errors><RequestID>req-4</RequestID></Response>"
        );
    }
}
