-- The IPv6 addresses an instance was launched with (RunInstances Ipv6Address.N), in request
-- order: the first is IMDS's `meta-data/ipv6` and DescribeInstances' `ipv6Address`. In host
-- mode the metadata service attributes an IPv6 connection by its source address, so an address
-- belongs to at most one live instance: a terminated instance gives its addresses up (the
-- trigger below), and the UNIQUE constraint holds among the rest.
-- Written only in the launching transaction, whose instance insert already stamps the instance
-- as changed (migration 0004).
CREATE TABLE instance_ipv6_addresses (
    instance_id TEXT NOT NULL REFERENCES instances (instance_id),
    position INTEGER NOT NULL,
    -- Canonical text (RFC 5952, as Rust's Ipv6Addr prints it), so equal addresses compare equal.
    address TEXT NOT NULL UNIQUE,
    PRIMARY KEY (instance_id, position)
);

CREATE TRIGGER instance_ipv6_released AFTER UPDATE OF state ON instances
    WHEN NEW.state = 'terminated' BEGIN
    DELETE FROM instance_ipv6_addresses WHERE instance_id = NEW.instance_id;
END;
