# Signs one POST with botocore and prints a wrk Lua script that replays it.
# Usage: mk_signed_lua.py ENDPOINT SERVICE ACCESS_KEY SECRET BODY
import sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

endpoint, service, ak, sk, body = sys.argv[1:6]
req = AWSRequest(method="POST", url=endpoint, data=body,
                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
SigV4Auth(Credentials(ak, sk), service, "us-east-1").add_auth(req)
lines = ['wrk.method = "POST"', 'wrk.body = "%s"' % body]
lines += ['wrk.headers["%s"] = "%s"' % (k, v) for k, v in req.headers.items()]
print("\n".join(lines))
