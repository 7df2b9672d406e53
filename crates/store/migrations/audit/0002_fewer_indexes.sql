-- Every index is one more B-tree page dirtied, and written to the WAL, by every commit of the
-- request path. Lookups by event name or access key are LookupEvents attributes only (AWS
-- limits LookupEvents to 2 requests per second per account): they walk the time index newest
-- first and filter, which a page of 50 matches stops early. Principal + time (policy
-- generation) and time (pages, exports, retention) keep their indexes; the event ID keeps its
-- uniqueness.
DROP INDEX events_by_access_key;
DROP INDEX events_by_name;
