-- Limits per account, requested by the risk team.
ALTER TABLE accounts ADD COLUMN daily_limit numeric(18, 2) NOT NULL;
ALTER TABLE accounts ADD COLUMN external_ref uuid DEFAULT gen_random_uuid();
ALTER TABLE accounts ADD CONSTRAINT accounts_balance_nonnegative CHECK (balance >= 0);
CREATE INDEX CONCURRENTLY accounts_created_at_idx ON accounts (created_at);
