ALTER TABLE events ADD COLUMN account_id bigint;
ALTER TABLE events ADD CONSTRAINT events_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;
CREATE INDEX CONCURRENTLY events_account_idx ON events (account_id);
DELETE FROM events;
