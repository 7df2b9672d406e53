//! Responses as EC2's IMDS sends them: header set and order, error pages.
//!
//! Header order follows a recorded EC2 exchange (`curl -v`): the token TTL first, then
//! `Content-Type`, `Accept-Ranges` and `Last-Modified` (GETs only), `Content-Length`, `Date`,
//! `Server: EC2ws`, and `Connection: close` when the connection ends.

use std::io::Write;
use std::time::SystemTime;

use crate::format::write_http_date;

/// What kind of answer a request gets; the body is written separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub status: Status,
    /// `X-Aws-Ec2-Metadata-Token-Ttl-Seconds`: the requested TTL on the token PUT, the token's
    /// remaining lifetime on token-bearing requests.
    pub token_ttl: Option<u64>,
    /// Metadata answers carry `Accept-Ranges: none` and this `Last-Modified`.
    pub last_modified: Option<SystemTime>,
    /// IP TTL / IPv6 hop limit to send this response with (the token PUT only).
    pub hop_limit: Option<u8>,
    /// `Content-Type: application/octet-stream` (user data) instead of `text/plain`.
    pub octet_stream: bool,
}

impl Head {
    pub fn new(status: Status) -> Self {
        Self {
            status,
            token_ttl: None,
            last_modified: None,
            hop_limit: None,
            octet_stream: false,
        }
    }
}

/// The statuses IMDS answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    /// `allow` lists the methods the path accepts.
    MethodNotAllowed {
        allow: &'static str,
    },
    PayloadTooLarge,
    HeadersTooLarge,
}

impl Status {
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::Unauthorized => 401,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::MethodNotAllowed { .. } => 405,
            Status::PayloadTooLarge => 413,
            Status::HeadersTooLarge => 431,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadRequest => "Bad Request",
            Status::Unauthorized => "Unauthorized",
            Status::Forbidden => "Forbidden",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed { .. } => "Method Not Allowed",
            Status::PayloadTooLarge => "Payload Too Large",
            Status::HeadersTooLarge => "Request Header Fields Too Large",
        }
    }

    /// Writes EC2's HTML error page for this status into `body`.
    ///
    /// The 404 page is byte-exact from recorded EC2 traffic (339 bytes). EC2's other error pages
    /// were not recorded; they use the same template with their own title (an assumption).
    pub fn write_error_page(self, body: &mut Vec<u8>) {
        let title = (self.code(), self.reason());
        let _ = write!(
            body,
            "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n\
             <!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\
             \t\t \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n\
             <html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n \
             <head>\n  <title>{0} - {1}</title>\n </head>\n \
             <body>\n  <h1>{0} - {1}</h1>\n </body>\n</html>\n",
            title.0, title.1
        );
    }
}

/// Appends the status line and headers for a body of `content_length` bytes.
pub fn write_head(
    out: &mut Vec<u8>,
    head: &Head,
    html: bool,
    content_length: usize,
    date: SystemTime,
    close: bool,
) {
    let status = head.status;
    let _ = write!(out, "HTTP/1.1 {} {}\r\n", status.code(), status.reason());
    if let Some(ttl) = head.token_ttl {
        let _ = write!(out, "X-Aws-Ec2-Metadata-Token-Ttl-Seconds: {ttl}\r\n");
    }
    if let Status::MethodNotAllowed { allow } = status {
        let _ = write!(out, "Allow: {allow}\r\n");
    }
    out.extend_from_slice(if html {
        b"Content-Type: text/html\r\n"
    } else if head.octet_stream {
        b"Content-Type: application/octet-stream\r\n"
    } else {
        b"Content-Type: text/plain\r\n"
    });
    if let Some(modified) = head.last_modified {
        out.extend_from_slice(b"Accept-Ranges: none\r\nLast-Modified: ");
        write_http_date(out, modified);
        out.extend_from_slice(b"\r\n");
    }
    let _ = write!(out, "Content-Length: {content_length}\r\nDate: ");
    write_http_date(out, date);
    out.extend_from_slice(b"\r\nServer: EC2ws\r\n");
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_page_is_ec2s_339_bytes() {
        let mut body = Vec::new();
        Status::NotFound.write_error_page(&mut body);
        assert_eq!(body.len(), 339);
        assert_eq!(
            body,
            b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\t\t \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n <head>\n  <title>404 - Not Found</title>\n </head>\n <body>\n  <h1>404 - Not Found</h1>\n </body>\n</html>\n"
        );
    }
}
