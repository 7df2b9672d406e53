-- An instance's user data (RunInstances UserData, decoded), served at IMDS `user-data`.
-- NULL when the instance has none.

ALTER TABLE instances ADD COLUMN user_data BLOB;

-- A change of user data is a change of the instance (migration 0004's stamping).
CREATE TRIGGER instance_user_data_updated AFTER UPDATE OF user_data ON instances BEGIN
    UPDATE instance_change_counter SET value = value + 1 WHERE id = 1;
    UPDATE instances SET change_seq = (SELECT value FROM instance_change_counter WHERE id = 1)
        WHERE instance_id = NEW.instance_id;
END;
