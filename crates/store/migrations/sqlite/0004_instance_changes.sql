-- Which instances changed, and in what order: every write to an instance, its tags or its
-- associations stamps the instance with the next value of one counter, so the metadata service
-- can re-read just the instances changed since its last look instead of all of them.
-- Triggers do the stamping, so no write path can forget it.

CREATE TABLE instance_change_counter (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO instance_change_counter (id, value) VALUES (1, 0);

ALTER TABLE instances ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX instances_by_change ON instances (change_seq);

CREATE TRIGGER instance_inserted AFTER INSERT ON instances BEGIN
    UPDATE instance_change_counter SET value = value + 1 WHERE id = 1;
    UPDATE instances SET change_seq = (SELECT value FROM instance_change_counter WHERE id = 1)
        WHERE instance_id = NEW.instance_id;
END;

-- Every column but change_seq itself, so the stamp does not fire this trigger again.
CREATE TRIGGER instance_updated AFTER UPDATE OF
    account_id, reservation_id, launch_index, image_id, instance_type, state, state_changed_ms,
    launched_ms, private_ip, availability_zone, key_name, subnet_id, security_groups,
    client_token, http_tokens, http_put_response_hop_limit, http_endpoint, http_protocol_ipv6,
    instance_metadata_tags
    ON instances BEGIN
    UPDATE instance_change_counter SET value = value + 1 WHERE id = 1;
    UPDATE instances SET change_seq = (SELECT value FROM instance_change_counter WHERE id = 1)
        WHERE instance_id = NEW.instance_id;
END;

CREATE TRIGGER instance_tag_added AFTER INSERT ON instance_tags BEGIN
    UPDATE instance_change_counter SET value = value + 1 WHERE id = 1;
    UPDATE instances SET change_seq = (SELECT value FROM instance_change_counter WHERE id = 1)
        WHERE instance_id = NEW.instance_id;
END;

CREATE TRIGGER instance_tag_changed AFTER UPDATE ON instance_tags BEGIN
    UPDATE instance_change_counter SET value = value + 1 WHERE id = 1;
    UPDATE instances SET change_seq = (SELECT value FROM instance_change_counter WHERE id = 1)
        WHERE instance_id IN (OLD.instance_id, NEW.instance_id);
END;

CREATE TRIGGER instance_tag_removed AFTER DELETE ON instance_tags BEGIN
    UPDATE instance_change_counter SET value = value + 1 WHERE id = 1;
    UPDATE instances SET change_seq = (SELECT value FROM instance_change_counter WHERE id = 1)
        WHERE instance_id = OLD.instance_id;
END;

CREATE TRIGGER instance_association_added AFTER INSERT ON iam_instance_profile_associations BEGIN
    UPDATE instance_change_counter SET value = value + 1 WHERE id = 1;
    UPDATE instances SET change_seq = (SELECT value FROM instance_change_counter WHERE id = 1)
        WHERE instance_id = NEW.instance_id;
END;

CREATE TRIGGER instance_association_changed AFTER UPDATE ON iam_instance_profile_associations BEGIN
    UPDATE instance_change_counter SET value = value + 1 WHERE id = 1;
    UPDATE instances SET change_seq = (SELECT value FROM instance_change_counter WHERE id = 1)
        WHERE instance_id IN (OLD.instance_id, NEW.instance_id);
END;
