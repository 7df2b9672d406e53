"""Every call the workload makes, in order, with what came back.

A call is *acknowledged* when the server answered it (success or an AWS error, both carry a
request ID); a call with no answer (refused, reset, timed out: the server was being killed) is
*unacknowledged* and may or may not have taken effect."""

import json
import threading
import time

import botocore.exceptions
from botocore.config import Config

OK, ERR, UNACK = "ok", "err", "unack"
UNREAD_PARAMS = ("PolicyDocument", "AssumeRolePolicyDocument", "LookupAttributes")

# No retries inside botocore: every attempt is one ledger entry.
CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=3, read_timeout=20,
                       max_pool_connections=4)


class Ledger:
    def __init__(self, path):
        self.file = open(path, "w", buffering=1 << 16)
        self.entries = []
        self.lock = threading.Lock()

    def add(self, entry):
        with self.lock:
            entry["seq"] = len(self.entries)
            self.entries.append(entry)
            self.file.write(json.dumps(entry) + "\n")

    def close(self):
        with self.lock:
            self.file.close()

    def call(self, worker, kind, client, op, **params):
        """Calls `client.op(**params)`; returns (outcome, response or error code)."""
        began = time.time()
        # What the replay reads; the trust policy and lookup filters would only take memory.
        entry = {"t": began, "worker": worker, "kind": kind, "op": op,
                 "params": {k: v for k, v in params.items() if k not in UNREAD_PARAMS}}
        if "PolicyDocument" in params:
            entry["params"]["doc"] = params["PolicyDocument"]
        try:
            response = getattr(client, snake(op))(**params)
            entry.update(outcome=OK, rid=response["ResponseMetadata"].get("RequestId"))
            summary = summarize(op, response)
            if summary is not None:
                entry["result"] = summary
            result = (OK, response)
        except botocore.exceptions.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "?")
            entry.update(outcome=ERR, code=code,
                         status=e.response["ResponseMetadata"].get("HTTPStatusCode"),
                         rid=e.response["ResponseMetadata"].get("RequestId"))
            result = (ERR, code)
        except (botocore.exceptions.BotoCoreError, ConnectionError, OSError) as e:
            entry.update(outcome=UNACK, error=type(e).__name__)
            result = (UNACK, type(e).__name__)
        entry["dt"] = round(time.time() - began, 4)
        self.add(entry)
        return result


def snake(op):
    out = []
    for i, c in enumerate(op):
        if c.isupper() and i:
            out.append("_")
        out.append(c.lower())
    return "".join(out)


def summarize(op, response):
    """What the replay needs from an answer: the IDs the server chose, what a read saw."""
    if op == "RunInstances":
        return {"instance": response["Instances"][0]["InstanceId"]}
    if op in ("AssociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation"):
        a = response["IamInstanceProfileAssociation"]
        return {"association": a["AssociationId"], "instance": a["InstanceId"]}
    if op == "DescribeIamInstanceProfileAssociations":
        return {"associations": [
            [a["InstanceId"], a["AssociationId"], profile_name(a["IamInstanceProfile"]["Arn"])]
            for a in response["IamInstanceProfileAssociations"]]}
    return None


def profile_name(arn):
    return arn.rsplit("/", 1)[-1]
