ALTER TABLE accounts RENAME COLUMN owner_email TO email;
ALTER TABLE accounts ALTER COLUMN balance TYPE numeric(20, 4);
