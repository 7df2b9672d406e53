-- The index points into the journal instead of copying it. A row per block of consecutive
-- journal lines (about 1 MiB) replaces a row per record: where the lines are, their time
-- span, and per LookupEvents attribute the distinct values the block's records carry (JSON;
-- an attribute with too many values to list matches anything). Lookups read the blocks that
-- can hold a match and filter their lines. Indexing a record no longer writes it a second
-- and third time (index WAL, index pages), which was most of what auditing cost.
--
-- Records that only ever lived in `events` (bulk loads before the journal existed) are not in
-- any journal and go with the table; everything in the journal is indexed again from the
-- first segment still on disk.
DROP TABLE events;

CREATE TABLE blocks (
    segment INTEGER NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    records INTEGER NOT NULL,
    min_time_ms INTEGER NOT NULL,
    max_time_ms INTEGER NOT NULL,
    keys TEXT NOT NULL,
    -- Retention hid this block's records older than this (the block straddled the cut-off).
    pruned_before_ms INTEGER,
    PRIMARY KEY (segment, start_offset)
);

UPDATE journal_position SET segment = 0, byte_offset = 0;
