ALTER TABLE events DROP COLUMN account_id;
