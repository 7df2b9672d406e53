"""The mixed workload: a few threads per kind, each owning its own names, so every entity is
written by one thread in order and the ledger can replay it (see checks.py)."""

import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

import boto3

from ledger import CLIENT_CONFIG, ERR, OK, UNACK
from server import ADMIN_KEY, ADMIN_SECRET

PATH = "/soak/"
POLICY_NAMES = ("p0", "p1")
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRole",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root", "Service": "ec2.amazonaws.com"}}]})
IMAGE = "ami-0123456789abcdef0"


def policy_document(nonce):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": f"S{nonce}", "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::soak-{nonce}/*"}]})


def clients(endpoint, *services, key=ADMIN_KEY, secret=ADMIN_SECRET, token=None, session=None):
    """Clients signing with the key; pass a thread's own session to reuse its loaded models."""
    session = session or boto3.session.Session(region_name="us-east-1")
    return [session.client(s, endpoint_url=endpoint, config=CLIENT_CONFIG, aws_access_key_id=key,
                           aws_secret_access_key=secret, aws_session_token=token)
            for s in services]


class Shared:
    """What the workers share: the ledger, the stop flag, the static fixtures, live instances."""

    def __init__(self, ledger, endpoint, imds_port, pace):
        self.ledger, self.endpoint, self.imds_port, self.pace = ledger, endpoint, imds_port, pace
        self.stopping = threading.Event()
        self.static_roles = []       # role names (each in the static profile of the same index)
        self.static_profiles = []    # profile names
        self.static_instances = []   # (instance id, address, role name)
        self.live = {}               # instance id -> address, of the EC2 workers' instances
        self.live_lock = threading.Lock()
        self.imds = {"ok": 0, "norole": 0, "unack": 0, "other": 0, "wrong_role": 0,
                     "static_not_ok": 0}
        self.imds_other = Counter()  # "other" answers by step and status
        self.imds_keys = set()       # AccessKeyIds the metadata service handed out
        self.profile_samples = {"samples": 0, "profiles_seen": 0, "over_one_role": 0}
        self.counter_lock = threading.Lock()

    def count(self, table, key, n=1):
        with self.counter_lock:
            table[key] += n


class Worker(threading.Thread):
    kind = "?"

    def __init__(self, shared, index):
        super().__init__(daemon=True, name=f"{self.kind}-{index}")
        self.shared, self.index = shared, index
        self.rng = random.Random(f"{self.kind}{index}")

    def call(self, client, op, **params):
        return self.shared.ledger.call(self.name, self.kind, client, op, **params)

    def until_acked(self, client, op, **params):
        """Repeats a call until the server answers it (or the run ends: then UNACK)."""
        delay = 0.1
        while True:
            outcome, value = self.call(client, op, **params)
            if outcome != UNACK or self.shared.stopping.is_set():
                return outcome, value
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def run(self):
        while not self.shared.stopping.is_set():
            try:
                self.step()
            except Exception as e:  # a bug in the load generator must not end the run silently
                print(f"{self.name}: {type(e).__name__}: {e}", flush=True)
                time.sleep(1)
            time.sleep(self.shared.pace)


class IamWorker(Worker):
    """Roles with two inline policies, each in an instance profile of its own, built up, changed
    and torn down over a small set of names (so names are reused)."""
    kind = "iam"
    SLOTS = 6

    def __init__(self, shared, index):
        super().__init__(shared, index)
        (self.iam,) = clients(shared.endpoint, "iam")
        self.built = {}  # slot -> True built, False gone, None unknown

    def names(self, slot):
        return f"soak-w{self.index}-r{slot}", f"soak-w{self.index}-p{slot}"

    def step(self):
        slot = self.rng.randrange(self.SLOTS)
        state = self.built.get(slot, False)
        if state is False:
            self.build(slot)
        elif state is None or self.rng.random() < 0.3:
            self.teardown(slot)
        elif self.rng.random() < 0.5:
            role, _ = self.names(slot)
            self.must(slot, "PutRolePolicy", (), RoleName=role,
                      PolicyName=self.rng.choice(POLICY_NAMES),
                      PolicyDocument=policy_document(uuid.uuid4().hex[:12]))
        else:
            role, profile = self.names(slot)
            self.must(slot, "RemoveRoleFromInstanceProfile", ("NoSuchEntity",),
                      InstanceProfileName=profile, RoleName=role)
            self.must(slot, "AddRoleToInstanceProfile", ("LimitExceeded",),
                      InstanceProfileName=profile, RoleName=role)

    def must(self, slot, op, tolerated, **params):
        outcome, value = self.until_acked(self.iam, op, **params)
        if outcome == OK or (outcome == ERR and value in tolerated):
            return True
        self.built[slot] = None  # unexpected answer (or the run ended): tear down next time
        return False

    def build(self, slot):
        role, profile = self.names(slot)
        self.built[slot] = None
        steps = [("CreateRole", ("EntityAlreadyExists",),
                  dict(RoleName=role, Path=PATH, AssumeRolePolicyDocument=TRUST))]
        for name in POLICY_NAMES:
            steps.append(("PutRolePolicy", (), dict(
                RoleName=role, PolicyName=name,
                PolicyDocument=policy_document(uuid.uuid4().hex[:12]))))
        steps.append(("CreateInstanceProfile", ("EntityAlreadyExists",),
                      dict(InstanceProfileName=profile, Path=PATH)))
        steps.append(("AddRoleToInstanceProfile", ("LimitExceeded",),
                      dict(InstanceProfileName=profile, RoleName=role)))
        for op, tolerated, params in steps:
            if not self.must(slot, op, tolerated, **params):
                return
        self.built[slot] = True

    def teardown(self, slot):
        role, profile = self.names(slot)
        self.built[slot] = None
        gone = ("NoSuchEntity",)
        if not (self.must(slot, "RemoveRoleFromInstanceProfile", gone,
                          InstanceProfileName=profile, RoleName=role)
                and self.must(slot, "DeleteInstanceProfile", gone, InstanceProfileName=profile)
                and all(self.must(slot, "DeleteRolePolicy", gone, RoleName=role, PolicyName=n)
                        for n in POLICY_NAMES)
                and self.must(slot, "DeleteRole", gone, RoleName=role)):
            return
        self.built[slot] = False


class StsWorker(Worker):
    """AssumeRole on the static roles; now and then a call signed with the session it got."""
    kind = "sts"

    def __init__(self, shared, index):
        super().__init__(shared, index)
        self.session = boto3.session.Session(region_name="us-east-1")
        (self.sts,) = clients(shared.endpoint, "sts", session=self.session)

    def step(self):
        role = self.rng.choice(self.shared.static_roles)
        outcome, value = self.call(
            self.sts, "AssumeRole", RoleArn=f"arn:aws:iam::123456789012:role{PATH}{role}",
            RoleSessionName=f"soak-{self.index}", DurationSeconds=900)
        if outcome == OK and self.rng.random() < 0.25:
            c = value["Credentials"]
            (session_sts,) = clients(self.shared.endpoint, "sts", key=c["AccessKeyId"],
                                     secret=c["SecretAccessKey"], token=c["SessionToken"],
                                     session=self.session)
            self.call(session_sts, "GetCallerIdentity")
        elif outcome == UNACK:
            time.sleep(0.2)


class ImdsWorker(Worker):
    """IMDSv2 credential fetches (token, role listing, credentials) from the static instances
    and the EC2 workers' live ones, over each instance's own loopback address."""
    kind = "imds"

    def http(self, method, url, headers):
        request = urllib.request.Request(url, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, ""

    def step(self):
        shared = self.shared
        with shared.live_lock:
            live = list(shared.live.items())
        expected = None
        if live and self.rng.random() < 0.5:
            _, address = self.rng.choice(live)
        else:
            _, address, expected = self.rng.choice(shared.static_instances)
        base = f"http://{address}:{shared.imds_port}/latest"
        try:
            status, token = self.http("PUT", f"{base}/api/token",
                                      {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
            if status != 200:
                return self.outcome("other", expected, f"token {status}")
            auth = {"X-aws-ec2-metadata-token": token}
            status, listing = self.http("GET", f"{base}/meta-data/iam/security-credentials/", auth)
            if status == 404:
                return self.outcome("norole", expected)
            role = listing.strip()
            status, body = self.http("GET", f"{base}/meta-data/iam/security-credentials/{role}",
                                     auth)
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
            return self.outcome("unack", expected)
        if status != 200 or json.loads(body).get("Code") != "Success":
            return self.outcome("other", expected, f"credentials {status}")
        with shared.counter_lock:
            shared.imds_keys.add(json.loads(body)["AccessKeyId"])
        if expected is not None and role != expected:
            shared.count(shared.imds, "wrong_role")
        return self.outcome("ok", expected)

    def outcome(self, what, expected, detail=None):
        self.shared.count(self.shared.imds, what)
        if detail:
            self.shared.count(self.shared.imds_other, detail)
        if expected is not None and what not in ("ok", "unack"):
            self.shared.count(self.shared.imds, "static_not_ok")


class Ec2Worker(Worker):
    """Instances launched with a ClientToken (so a launch with no answer is retried as the same
    launch), then associated, replaced, disassociated and terminated."""
    kind = "ec2"
    LIVE = 4

    def __init__(self, shared, index):
        super().__init__(shared, index)
        (self.ec2,) = clients(shared.endpoint, "ec2")
        self.mine = {}  # instance id -> association id, "" for none, None unknown

    def step(self):
        if len(self.mine) < self.LIVE:
            return self.launch()
        instance = self.rng.choice(list(self.mine))
        association = self.mine[instance]
        if association is None:
            return self.refresh(instance)
        profiles = self.shared.static_profiles
        roll = self.rng.random()
        if roll < 0.1:
            self.until_acked(self.ec2, "TerminateInstances", InstanceIds=[instance])
            with self.shared.live_lock:
                self.shared.live.pop(instance, None)
            del self.mine[instance]
            return
        if association == "":
            outcome, value = self.until_acked(
                self.ec2, "AssociateIamInstanceProfile", InstanceId=instance,
                IamInstanceProfile={"Name": self.rng.choice(profiles)})
        elif roll < 0.6:
            outcome, value = self.until_acked(
                self.ec2, "ReplaceIamInstanceProfileAssociation", AssociationId=association,
                IamInstanceProfile={"Name": self.rng.choice(profiles)})
        else:
            outcome, value = self.until_acked(
                self.ec2, "DisassociateIamInstanceProfile", AssociationId=association)
            if outcome == OK:
                self.mine[instance] = ""
                return
        if outcome == OK:
            self.mine[instance] = value["IamInstanceProfileAssociation"]["AssociationId"]
        else:
            self.mine[instance] = None

    def launch(self):
        token = uuid.uuid4().hex
        params = dict(ImageId=IMAGE, MinCount=1, MaxCount=1, ClientToken=token)
        if self.rng.random() < 0.5:
            params["IamInstanceProfile"] = {"Name": self.rng.choice(self.shared.static_profiles)}
        outcome, value = self.until_acked(self.ec2, "RunInstances", **params)
        if outcome != OK:
            return
        instance = value["Instances"][0]
        self.mine[instance["InstanceId"]] = None
        with self.shared.live_lock:
            self.shared.live[instance["InstanceId"]] = instance["PrivateIpAddress"]

    def refresh(self, instance):
        outcome, value = self.until_acked(
            self.ec2, "DescribeIamInstanceProfileAssociations",
            Filters=[{"Name": "instance-id", "Values": [instance]},
                     {"Name": "state", "Values": ["associated"]}])
        if outcome == OK:
            found = value["IamInstanceProfileAssociations"]
            self.mine[instance] = found[0]["AssociationId"] if found else ""


class LookupWorker(Worker):
    """CloudTrail LookupEvents by event name, sometimes a second page."""
    kind = "cloudtrail"
    NAMES = ("CreateRole", "AssumeRole", "RunInstances", "PutRolePolicy",
             "AssociateIamInstanceProfile")

    def __init__(self, shared, index):
        super().__init__(shared, index)
        (self.trail,) = clients(shared.endpoint, "cloudtrail")

    def step(self):
        params = dict(MaxResults=25, LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": self.rng.choice(self.NAMES)}])
        outcome, value = self.call(self.trail, "LookupEvents", **params)
        if outcome == OK and value.get("NextToken") and self.rng.random() < 0.3:
            self.call(self.trail, "LookupEvents", NextToken=value["NextToken"], **params)
        elif outcome == UNACK:
            time.sleep(0.2)


class ProfileSampler(Worker):
    """Every few seconds, every profile's roles: never more than one."""
    kind = "check"

    def __init__(self, shared, index):
        super().__init__(shared, index)
        (self.iam,) = clients(shared.endpoint, "iam")

    def step(self):
        marker = {}
        while True:
            outcome, value = self.call(self.iam, "ListInstanceProfiles", MaxItems=1000, **marker)
            if outcome != OK:
                break
            s = self.shared.profile_samples
            with self.shared.counter_lock:
                s["profiles_seen"] += len(value["InstanceProfiles"])
                s["over_one_role"] += sum(len(p["Roles"]) > 1 for p in value["InstanceProfiles"])
            if not value.get("IsTruncated"):
                self.shared.count(s, "samples")
                break
            marker = {"Marker": value["Marker"]}
        self.shared.stopping.wait(5)


def setup(shared, statics):
    """The fixtures the other kinds lean on, made before the first kill: roles, profiles
    holding them, and instances launched with those profiles."""
    ledger = shared.ledger
    iam, ec2 = clients(shared.endpoint, "iam", "ec2")

    def must(client, op, **params):
        outcome, value = ledger.call("setup", "setup", client, op, **params)
        if outcome != OK:
            raise RuntimeError(f"setup {op}: {value}")
        return value

    for i in range(statics):
        role, profile = f"soak-static-r{i}", f"soak-static-p{i}"
        must(iam, "CreateRole", RoleName=role, Path=PATH, AssumeRolePolicyDocument=TRUST)
        must(iam, "CreateInstanceProfile", InstanceProfileName=profile, Path=PATH)
        must(iam, "AddRoleToInstanceProfile", InstanceProfileName=profile, RoleName=role)
        shared.static_roles.append(role)
        shared.static_profiles.append(profile)
    for i in range(statics):
        value = must(ec2, "RunInstances", ImageId=IMAGE, MinCount=1, MaxCount=1,
                     ClientToken=uuid.uuid4().hex,
                     IamInstanceProfile={"Name": shared.static_profiles[i]})
        instance = value["Instances"][0]
        shared.static_instances.append(
            (instance["InstanceId"], instance["PrivateIpAddress"], shared.static_roles[i]))


KINDS = {"iam": IamWorker, "sts": StsWorker, "imds": ImdsWorker, "ec2": Ec2Worker,
         "cloudtrail": LookupWorker}
