-- GetAccessKeyLastUsed names the service a key last signed for, beside its region and date.
ALTER TABLE access_keys ADD COLUMN last_used_service TEXT;
