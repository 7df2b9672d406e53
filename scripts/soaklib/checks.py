"""The invariants, checked against the ledger, the server's answers and its data dir.

Replay: each entity (a role, an inline policy, a profile, a profile's role, an instance, an
instance's active association) has a set of values it may hold. An acknowledged write makes
the set exactly its result; an unacknowledged one adds its result (it may or may not have
happened); an acknowledged answer that reveals the state (an error such as
EntityAlreadyExists, or a read) must fall inside the set, else an acknowledged write was lost,
and then narrows it. At the end the server's state must fall inside every set."""

import glob
import json
import os
import re
import sqlite3
from collections import defaultdict

from ledger import ERR, OK, UNACK, profile_name
from workload import PATH, POLICY_NAMES, clients

ABSENT = None
PRESENT = "present"


class Replay:
    def __init__(self):
        self.possible = {}
        self.violations = []
        self.association_instance = {}  # association ID -> instance ID
        self.instance_token = {}  # instance ID -> the ClientToken that launched it

    def get(self, entity):
        return self.possible.setdefault(entity, {ABSENT})

    def write(self, entry, entity, value):
        if entry["outcome"] == OK:
            self.possible[entity] = {value}
        elif entry["outcome"] == UNACK:
            self.get(entity).add(value)

    def fact(self, entry, entity, allowed):
        """The server's answer shows the entity holds a value for which `allowed` is true."""
        now = self.get(entity)
        kept = {v for v in now if allowed(v)}
        if not kept:
            self.violations.append(
                f"seq {entry['seq']} {entry['op']} {entry.get('code', '')} contradicts "
                f"{entity}: was one of {sorted(map(str, now))}")
            return
        self.possible[entity] = kept

    def apply(self, e):
        op, p, outcome, code = e["op"], e["params"], e["outcome"], e.get("code")
        if op == "CreateRole":
            self.write(e, ("role", p["RoleName"]), PRESENT)
            if outcome == OK:
                for name in POLICY_NAMES:
                    self.possible[("policy", p["RoleName"], name)] = {ABSENT}
            if code == "EntityAlreadyExists":
                self.fact(e, ("role", p["RoleName"]), lambda v: v is not ABSENT)
        elif op == "DeleteRole":
            self.write(e, ("role", p["RoleName"]), ABSENT)
            if outcome == OK:  # a role with policies is never deleted
                for name in POLICY_NAMES:
                    self.possible[("policy", p["RoleName"], name)] = {ABSENT}
            if code == "NoSuchEntity":
                self.fact(e, ("role", p["RoleName"]), lambda v: v is ABSENT)
            elif code == "DeleteConflict":
                self.fact(e, ("role", p["RoleName"]), lambda v: v is not ABSENT)
        elif op == "PutRolePolicy":
            self.write(e, ("policy", p["RoleName"], p["PolicyName"]), canonical(p["doc"]))
            if outcome == OK:
                self.fact(e, ("role", p["RoleName"]), lambda v: v is not ABSENT)
            elif code == "NoSuchEntity":
                self.fact(e, ("role", p["RoleName"]), lambda v: v is ABSENT)
        elif op == "DeleteRolePolicy":
            self.write(e, ("policy", p["RoleName"], p["PolicyName"]), ABSENT)
            if code == "NoSuchEntity":
                self.fact(e, ("policy", p["RoleName"], p["PolicyName"]), lambda v: v is ABSENT)
        elif op == "CreateInstanceProfile":
            name = p["InstanceProfileName"]
            self.write(e, ("profile", name), PRESENT)
            if outcome == OK:
                self.possible[("member", name)] = {ABSENT}
            if code == "EntityAlreadyExists":
                self.fact(e, ("profile", name), lambda v: v is not ABSENT)
        elif op == "DeleteInstanceProfile":
            name = p["InstanceProfileName"]
            self.write(e, ("profile", name), ABSENT)
            if outcome == OK:  # nor a profile holding a role
                self.possible[("member", name)] = {ABSENT}
            if code == "NoSuchEntity":
                self.fact(e, ("profile", name), lambda v: v is ABSENT)
            elif code == "DeleteConflict":
                self.fact(e, ("profile", name), lambda v: v is not ABSENT)
                self.fact(e, ("member", name), lambda v: v is not ABSENT)
        elif op == "AddRoleToInstanceProfile":
            name = p["InstanceProfileName"]
            self.write(e, ("member", name), p["RoleName"])
            if code == "LimitExceeded":
                self.fact(e, ("member", name), lambda v: v is not ABSENT)
        elif op == "RemoveRoleFromInstanceProfile":
            name, role = p["InstanceProfileName"], p["RoleName"]
            self.write(e, ("member", name), ABSENT)
            if code == "NoSuchEntity":
                self.fact(e, ("member", name), lambda v: v != role)
        elif op == "RunInstances":
            token = p["ClientToken"]
            self.write(e, ("instance", token), "running")
            if outcome == OK:
                instance = e["result"]["instance"]
                self.instance_token[instance] = token
                profile = p.get("IamInstanceProfile", {}).get("Name")
                self.possible[("assoc", instance)] = {profile}
        elif op == "TerminateInstances":
            instance = p["InstanceIds"][0]
            token = self.instance_token.get(instance)
            if token:
                self.write(e, ("instance", token), "terminated")
            self.write(e, ("assoc", instance), ABSENT)
        elif op == "AssociateIamInstanceProfile":
            instance = p["InstanceId"]
            self.write(e, ("assoc", instance), p["IamInstanceProfile"]["Name"])
            if outcome == OK:
                self.association_instance[e["result"]["association"]] = instance
            elif code == "IncorrectState":
                self.fact(e, ("assoc", instance), lambda v: v is not ABSENT)
        elif op == "ReplaceIamInstanceProfileAssociation":
            instance = self.association_instance.get(p["AssociationId"])
            if instance and (outcome == UNACK or outcome == OK):
                self.write(e, ("assoc", instance), p["IamInstanceProfile"]["Name"])
            if outcome == OK:
                self.association_instance[e["result"]["association"]] = e["result"]["instance"]
        elif op == "DisassociateIamInstanceProfile":
            instance = self.association_instance.get(p["AssociationId"])
            if instance and outcome != ERR:
                self.write(e, ("assoc", instance), ABSENT)
        elif op == "DescribeIamInstanceProfileAssociations" and outcome == OK:
            seen = e["result"]["associations"]
            for instance, association, _ in seen:
                self.association_instance[association] = instance
            for f in p.get("Filters", []):
                if f["Name"] == "instance-id":
                    for instance in f["Values"]:
                        names = [n for i, _, n in seen if i == instance]
                        value = names[0] if names else ABSENT
                        self.fact(e, ("assoc", instance), lambda v, value=value: v == value)


def canonical(document):
    if isinstance(document, str):
        document = json.loads(document)
    return json.dumps(document, sort_keys=True)


def paginate(client, op, key, **params):
    out = []
    for page in client.get_paginator(op).paginate(**params):
        out.extend(page[key])
    return out


def actual_state(endpoint):
    """The server's state of every entity the workload names, read through the API."""
    iam, ec2 = clients(endpoint, "iam", "ec2")
    state = {}
    roles = {r["RoleName"] for r in paginate(iam, "list_roles", "Roles", PathPrefix=PATH)}
    for role in roles:
        state[("role", role)] = PRESENT
        for name in paginate(iam, "list_role_policies", "PolicyNames", RoleName=role):
            doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            state[("policy", role, name)] = canonical(doc)
    profiles = paginate(iam, "list_instance_profiles", "InstanceProfiles", PathPrefix=PATH)
    for profile in profiles:
        state[("profile", profile["InstanceProfileName"])] = PRESENT
        held = [r["RoleName"] for r in profile["Roles"]]
        state[("member", profile["InstanceProfileName"])] = held[0] if held else ABSENT
    instances = [i for r in paginate(ec2, "describe_instances", "Reservations")
                 for i in r["Instances"]]
    associations = paginate(ec2, "describe_iam_instance_profile_associations",
                            "IamInstanceProfileAssociations")
    for i in instances:
        if i.get("ClientToken"):
            state[("instance", i["ClientToken"])] = i["State"]["Name"]
    active = defaultdict(list)
    for a in associations:
        if a["State"] in ("associating", "associated"):
            active[a["InstanceId"]].append(profile_name(a["IamInstanceProfile"]["Arn"]))
    for instance, names in active.items():
        state[("assoc", instance)] = names[0]
    return state, roles, profiles, instances, active


def check_final(replay, state, static_roles, static_profiles):
    lost = list(replay.violations)
    for entity, possible in replay.possible.items():
        value = state.get(entity, ABSENT)
        if entity[0] == "instance" and value is ABSENT and "terminated" in possible:
            value = "terminated"  # terminated instances drop out of listings after an hour
        if value in possible:
            continue
        lost.append(f"final {entity}: {value!r}, expected one of {sorted(map(str, possible))}")
    statics = {("role", r) for r in static_roles} | {("profile", p) for p in static_profiles}
    statics |= {("member", p) for p in static_profiles}
    for entity in state:
        if entity[0] in ("role", "profile", "policy") and entity not in replay.possible \
                and entity not in statics:
            lost.append(f"final {entity}: exists but no call of the run made it")
    return lost


def check_orphans(data_dir, roles, profiles, instances, active):
    """What would be an orphan in roleplane's model (see docs/RELIABILITY.md, Soak)."""
    found = []
    status = {i["InstanceId"]: i["State"]["Name"] for i in instances}
    for instance, names in active.items():
        if len(names) > 1:
            found.append(f"{instance}: {len(names)} active associations")
        if status.get(instance) not in ("running", "stopped"):
            found.append(f"active association on {instance} in state {status.get(instance)}")
    for profile in profiles:
        for role in profile["Roles"]:
            if role["Path"] == PATH and role["RoleName"] not in roles:
                found.append(f"profile {profile['InstanceProfileName']} holds missing role "
                             f"{role['RoleName']}")
    db = sqlite3.connect(f"file:{os.path.join(data_dir, 'roleplane.db')}?mode=ro", uri=True)
    queries = {
        "inline policies of no role or user":
            "SELECT COUNT(*) FROM inline_policies WHERE principal_id NOT IN "
            "(SELECT role_id FROM roles UNION SELECT user_id FROM users)",
        "managed policy attachments of no role or user":
            "SELECT COUNT(*) FROM policy_attachments WHERE principal_id NOT IN "
            "(SELECT role_id FROM roles UNION SELECT user_id FROM users)",
        "profile memberships naming a missing role or profile":
            "SELECT COUNT(*) FROM instance_profile_roles WHERE role_id NOT IN "
            "(SELECT role_id FROM roles) OR profile_id NOT IN (SELECT profile_id FROM "
            "instance_profiles)",
        "active associations of a missing or terminated instance":
            "SELECT COUNT(*) FROM iam_instance_profile_associations a LEFT JOIN instances i "
            "USING (instance_id) WHERE a.state IN ('associating', 'associated') AND "
            "(i.instance_id IS NULL OR i.state IN ('terminated', 'shutting-down'))",
        "instances with more than one active association":
            "SELECT COUNT(*) FROM (SELECT instance_id FROM iam_instance_profile_associations "
            "WHERE state IN ('associating', 'associated') GROUP BY instance_id "
            "HAVING COUNT(*) > 1)",
    }
    for what, sql in queries.items():
        (n,) = db.execute(sql).fetchone()
        if n:
            found.append(f"store: {n} {what}")
    db.close()
    return found, len(queries)


KEY_ID = re.compile(r'"accessKeyId":"(ASIA[A-Z0-9]{16})"')


def journal_records(data_dir):
    """(request IDs, access key IDs named anywhere, lines, unreadable lines) of the journal."""
    ids, keys, lines, bad = set(), set(), 0, 0
    for path in sorted(glob.glob(os.path.join(data_dir, "audit", "journal-*.jsonl"))):
        with open(path, "rb") as f:
            data = f.read().split(b"\0", 1)[0]
        for line in data.split(b"\n"):
            if not line:
                continue
            lines += 1
            try:
                record = json.loads(line)[-1]
                if isinstance(record, str):
                    record = json.loads(record)
            except (ValueError, IndexError):
                bad += 1
                continue
            if record.get("requestID"):
                ids.add(record["requestID"])
            keys.update(KEY_ID.findall(line.decode("utf-8", "replace")))
    return ids, keys, lines, bad


def check_audit(entries, data_dir, imds_keys):
    ids, keys, lines, bad = journal_records(data_dir)
    acknowledged = [e for e in entries if e["outcome"] != UNACK]
    no_id = [e for e in acknowledged if not e.get("rid")]
    missing = [e for e in acknowledged if e.get("rid") and e["rid"] not in ids]
    missing_keys = sorted(imds_keys - keys)
    return {"journal_lines": lines, "unreadable_lines": bad, "acknowledged": len(acknowledged),
            "without_request_id": len(no_id), "missing": missing,
            "imds_keys": len(imds_keys), "imds_keys_missing": missing_keys}
