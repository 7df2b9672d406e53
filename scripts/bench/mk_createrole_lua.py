# Writes N distinct, botocore-signed IAM CreateRole requests (one role name each) to a data file,
# and prints a wrk Lua script that replays them in order, so every request is a real durable
# write rather than a repeated 409. Usage: mk_createrole_lua.py ENDPOINT AK SK N DATAFILE
import json, sys, uuid
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from urllib.parse import quote

endpoint, ak, sk, n, data = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
prefix = uuid.uuid4().hex[:8]
with open(data, "w") as out:
    for i in range(n):
        body = "Action=CreateRole&Version=2010-05-08&RoleName=bench-%s-%d&AssumeRolePolicyDocument=%s" % (
            prefix, i, quote(trust, safe=""))
        req = AWSRequest(method="POST", url=endpoint, data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(Credentials(ak, sk), "iam", "us-east-1").add_auth(req)
        out.write("\t".join([req.headers["X-Amz-Date"], req.headers["Authorization"], body]) + "\n")
# One wrk thread (-t1) walks the requests once; past the end it wraps, and check.lua then
# reports the repeats as non-200 responses.
print("""
local requests = {}
local counter = 0
function init(args)
  bad = 0; sample = ""
  for line in io.lines("%s") do
    local date, auth, body = line:match("([^\\t]*)\\t([^\\t]*)\\t(.*)")
    requests[#requests + 1] = wrk.format("POST", "/", {
      ["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8",
      ["X-Amz-Date"] = date, ["Authorization"] = auth }, body)
  end
end
function request()
  counter = counter + 1
  return requests[((counter - 1) %% #requests) + 1]
end""" % data)
