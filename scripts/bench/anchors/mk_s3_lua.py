# Signs path-style S3 requests with botocore and prints a wrk Lua script that replays them
# (within SigV4's 15-minute window).
#   GET /BUCKET/KEY: one GetObject signed with x-amz-content-sha256: UNSIGNED-PAYLOAD, as the SDKs
#        sign bodiless calls; every replay is the same request.
#   PUT /BUCKET/KEY: PutObject of SIZE bytes of "r", the body's SHA-256 signed in
#        x-amz-content-sha256, to KEYS distinct keys KEY-0 … KEY-(KEYS-1) taken in turn. Distinct
#        keys because moto's server fails (500) when two PUTs of the same key overlap; KEYS well
#        above the connection count keeps overlapping requests on different keys. The Lua script
#        builds the body once (string.rep) and every request once (init), so a replay costs wrk
#        a copy, not a format.
# With --verify it first sends every request once itself and exits non-zero unless each answer is
# 200 (and, for a GET, SIZE bytes long): a load run never measures error responses, and every
# PUT it measures replaces an existing object.
# Usage: mk_s3_lua.py ENDPOINT AK SK GET|PUT /BUCKET/KEY SIZE [--keys K] [--verify]
import argparse
import hashlib
import http.client
import sys
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

p = argparse.ArgumentParser()
for name in ("endpoint", "ak", "sk", "method", "path"):
    p.add_argument(name)
p.add_argument("size", type=int)
p.add_argument("--keys", type=int, default=32)
p.add_argument("--verify", action="store_true")
a = p.parse_args()

host = urlsplit(a.endpoint).netloc
put = a.method == "PUT"
body = b"r" * a.size if put else b""
sha = hashlib.sha256(body).hexdigest() if put else "UNSIGNED-PAYLOAD"
paths = ["%s-%d" % (a.path, i) for i in range(a.keys)] if put else [a.path]


def sign(path):
    req = AWSRequest(method=a.method, url=a.endpoint.rstrip("/") + path, data=body or None,
                     headers={"Host": host, "X-Amz-Content-SHA256": sha})
    SigV4Auth(Credentials(a.ak, a.sk), "s3", "us-east-1").add_auth(req)
    return dict(req.headers.items())


signed = [(path, sign(path)) for path in paths]

if a.verify:
    conn = http.client.HTTPConnection(host, timeout=30)
    for path, headers in signed:
        conn.request(a.method, path, body=body or None, headers=headers)
        resp = conn.getresponse()
        got = resp.read()
        if resp.status != 200 or (not put and len(got) != a.size):
            sys.exit("verify %s %s%s: status %d, %d bytes: %r"
                     % (a.method, host, path, resp.status, len(got), got[:300]))


def lua_table(headers):
    return "{ " + ", ".join('["%s"] = "%s"' % kv for kv in headers.items()) + " }"


if not put:
    path, headers = signed[0]
    lines = ['wrk.method = "GET"', 'wrk.path = "%s"' % path]
    lines += ['wrk.headers["%s"] = "%s"' % kv for kv in headers.items()]
else:
    lines = ['local body = string.rep("r", %d)' % a.size, "local signed = {"]
    lines += ['  { "%s", %s },' % (path, lua_table(headers)) for path, headers in signed]
    lines += [
        "}",
        "local requests, turn = {}, 0",
        "function init(args)",
        '  for i, s in ipairs(signed) do requests[i] = wrk.format("PUT", s[1], s[2], body) end',
        "end",
        "function request()",
        "  turn = turn % #requests + 1",
        "  return requests[turn]",
        "end",
    ]
print("\n".join(lines))
