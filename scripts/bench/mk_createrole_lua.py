# Emits a wrk Lua script that sends N distinct, botocore-signed IAM CreateRole requests (one role
# name each), so every request is a real durable write rather than a repeated 409.
import json, sys, uuid
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from urllib.parse import quote

endpoint, ak, sk, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
prefix = uuid.uuid4().hex[:8]
lua = ["requests = {}"]
for i in range(n):
    body = "Action=CreateRole&Version=2010-05-08&RoleName=bench-%s-%d&AssumeRolePolicyDocument=%s" % (
        prefix, i, quote(trust, safe=""))
    req = AWSRequest(method="POST", url=endpoint, data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(ak, sk), "iam", "us-east-1").add_auth(req)
    headers = {k: v for k, v in req.headers.items()}
    lua.append("requests[%d] = wrk.format('POST', '/', %s, %s)" % (
        i + 1,
        "{" + ", ".join("[%s] = %s" % (json.dumps(k), json.dumps(v)) for k, v in headers.items()) + "}",
        json.dumps(body)))
# One wrk thread (-t1): the counter walks the table once; it wraps only if the run outlasts it,
# and check.lua then reports the repeats as non-200 responses.
lua.append("""
local counter = 0
function request()
  counter = counter + 1
  return requests[((counter - 1) % #requests) + 1]
end""")
print("\n".join(lua))
