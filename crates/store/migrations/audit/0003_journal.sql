-- The request path appends records to a journal (DATA_DIR/audit/journal-<n>.jsonl); an
-- indexer copies them into `events`. How far it has read is committed in the same transaction
-- as the rows it inserted, so a restarted indexer resumes exactly there: no record twice, none
-- skipped. One row, always present.
CREATE TABLE journal_position (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    segment INTEGER NOT NULL,
    byte_offset INTEGER NOT NULL
);
INSERT INTO journal_position (id, segment, byte_offset) VALUES (1, 0, 0);
