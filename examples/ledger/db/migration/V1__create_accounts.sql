CREATE TABLE accounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_email text NOT NULL,
    balance     numeric(18, 2) NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX accounts_owner_email_key ON accounts (owner_email);
