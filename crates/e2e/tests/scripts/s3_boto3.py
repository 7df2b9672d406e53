"""boto3 against a roleplane server (E2E_ENDPOINT, E2E_KEY_ID, E2E_SECRET, E2E_WORK): put, get,
list, copy, delete, a multipart upload_file with a small threshold, and a presigned PUT sent with
curl. Prints "ok" at the end; any failed assertion exits non-zero with its traceback."""

import hashlib
import io
import json
import os
import subprocess

import boto3
import botocore.exceptions
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

MIB = 1024 * 1024
work = os.environ["E2E_WORK"]
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["E2E_ENDPOINT"],
    region_name="us-east-1",
    aws_access_key_id=os.environ["E2E_KEY_ID"],
    aws_secret_access_key=os.environ["E2E_SECRET"],
    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                  retries={"max_attempts": 1}),
)
bucket = "boto-bucket"


def code_of(call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{call.__name__} succeeded")


s3.create_bucket(Bucket=bucket)
assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]

# put / get / head
body = b"hello from boto3\n"
put = s3.put_object(Bucket=bucket, Key="hello.txt", Body=body, ContentType="text/plain",
                    Metadata={"who": "boto3"})
assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), put
assert put["ServerSideEncryption"] == "AES256", put
got = s3.get_object(Bucket=bucket, Key="hello.txt")
assert got["Body"].read() == body
assert got["ContentType"] == "text/plain", got
assert got["Metadata"] == {"who": "boto3"}, got["Metadata"]
assert got["ServerSideEncryption"] == "AES256", got
head = s3.head_object(Bucket=bucket, Key="hello.txt")
assert head["ContentLength"] == len(body), head
ranged = s3.get_object(Bucket=bucket, Key="hello.txt", Range="bytes=0-4")
assert ranged["Body"].read() == b"hello" and ranged["ContentRange"] == f"bytes 0-4/{len(body)}"

# copy, list (with the paginator), delete
s3.copy_object(Bucket=bucket, Key="copies/hello.txt",
               CopySource={"Bucket": bucket, "Key": "hello.txt"})
assert s3.get_object(Bucket=bucket, Key="copies/hello.txt")["Body"].read() == body
for n in range(5):
    s3.put_object(Bucket=bucket, Key=f"many/{n}", Body=str(n).encode())
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
assert keys == ["copies/hello.txt", "hello.txt"] + [f"many/{n}" for n in range(5)], keys
listed = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["copies/", "many/"], listed
s3.delete_object(Bucket=bucket, Key="copies/hello.txt")
assert code_of(s3.get_object, Bucket=bucket, Key="copies/hello.txt") == ("NoSuchKey", 404)
deleted = s3.delete_objects(Bucket=bucket,
                            Delete={"Objects": [{"Key": f"many/{n}"} for n in range(5)]})
assert len(deleted["Deleted"]) == 5, deleted
assert code_of(s3.get_object, Bucket="no-such-bucket", Key="k") == ("NoSuchBucket", 404)

# Multipart through upload_file: 12 MiB in 5 MiB parts.
big = os.path.join(work, "big.bin")
data = os.urandom(12 * MIB)
with open(big, "wb") as f:
    f.write(data)
config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
s3.upload_file(big, bucket, "big.bin", Config=config)
head = s3.head_object(Bucket=bucket, Key="big.bin")
assert head["ContentLength"] == len(data), head
assert head["ETag"].endswith('-3"'), head["ETag"]
assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
back = os.path.join(work, "back.bin")
s3.download_file(bucket, "big.bin", back, Config=config)
with open(back, "rb") as f:
    assert hashlib.md5(f.read()).hexdigest() == hashlib.md5(data).hexdigest()

# A presigned PUT with curl, then GET (and a presigned GET with curl).
upload = os.path.join(work, "presigned.txt")
content = b"uploaded with a presigned URL\n" * 100
with open(upload, "wb") as f:
    f.write(content)
url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presigned.txt"},
                                ExpiresIn=300)
status = subprocess.run(["curl", "-s", "-o", "/dev/stderr", "-w", "%{http_code}", "-T", upload, url],
                        capture_output=True, check=True)
assert status.stdout == b"200", (status.stdout, status.stderr)
got = s3.get_object(Bucket=bucket, Key="presigned.txt")
assert got["Body"].read() == content
assert got["ETag"] == '"%s"' % hashlib.md5(content).hexdigest(), got["ETag"]
url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "presigned.txt"},
                                ExpiresIn=300)
fetched = subprocess.run(["curl", "-s", "-f", url], capture_output=True, check=True)
assert fetched.stdout == content

# Managed transfers: a multipart copy, file objects both ways.
s3.copy({"Bucket": bucket, "Key": "big.bin"}, bucket, "big-copy.bin", Config=config)
head = s3.head_object(Bucket=bucket, Key="big-copy.bin")
assert head["ContentLength"] == len(data), head
got = io.BytesIO()
s3.download_fileobj(bucket, "big-copy.bin", got, Config=config)
assert hashlib.md5(got.getvalue()).digest() == hashlib.md5(data).digest()
s3.upload_fileobj(io.BytesIO(b"from a file object"), bucket, "fileobj.txt")
assert s3.get_object(Bucket=bucket, Key="fileobj.txt")["Body"].read() == b"from a file object"

# The resource API, tags, a bucket policy, HEAD of nothing.
b3 = boto3.resource("s3", endpoint_url=os.environ["E2E_ENDPOINT"], region_name="us-east-1",
                    aws_access_key_id=os.environ["E2E_KEY_ID"],
                    aws_secret_access_key=os.environ["E2E_SECRET"],
                    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
names = sorted(o.key for o in b3.Bucket(bucket).objects.filter(Prefix="big"))
assert names == ["big-copy.bin", "big.bin"], names
s3.put_object_tagging(Bucket=bucket, Key="fileobj.txt",
                      Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
assert s3.get_object_tagging(Bucket=bucket, Key="fileobj.txt")["TagSet"] == [{"Key": "k", "Value": "v"}]
policy = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/keep/*"}]})
s3.put_bucket_policy(Bucket=bucket, Policy=policy)
assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(policy)
s3.put_object(Bucket=bucket, Key="keep/me", Body=b"kept")
assert code_of(s3.delete_object, Bucket=bucket, Key="keep/me") == ("AccessDenied", 403)
assert code_of(s3.head_object, Bucket=bucket, Key="nothing") == ("404", 404)
b3.Bucket(bucket).objects.filter(Prefix="many/").delete()

print("ok")
