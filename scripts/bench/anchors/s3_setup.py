# Creates bucket "bench" and uploads every file of DIR as an object of the same name (path-style).
# Usage: s3_setup.py ENDPOINT AK SK DIR
import os
import sys

import boto3
from botocore.config import Config

endpoint, ak, sk, src = sys.argv[1:5]
c = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id=ak, aws_secret_access_key=sk,
                 config=Config(s3={"addressing_style": "path"}))
c.create_bucket(Bucket="bench")
for name in sorted(os.listdir(src)):
    with open(os.path.join(src, name), "rb") as f:
        c.put_object(Bucket="bench", Key=name, Body=f.read())
    head = c.head_object(Bucket="bench", Key=name)
    assert head["ContentLength"] == os.path.getsize(os.path.join(src, name)), name
