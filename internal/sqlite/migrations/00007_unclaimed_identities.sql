-- +goose NO TRANSACTION
-- Invitations create identities that belong to the inviting workspace until
-- the person claims them (latchkey.User.Claimed). Only claimed accounts log
-- in, so only their emails are unique: several workspaces may each have an
-- unclaimed identity for one address without touching the account that
-- owns it. SQLite cannot drop a column constraint, so the table is rebuilt
-- (the documented procedure: foreign keys off, copy, swap, check).

-- +goose Up
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_rebuilt (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL, -- lower case, see latchkey.NormalizeEmail
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    operator      BOOLEAN NOT NULL DEFAULT FALSE,
    claimed       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);
INSERT INTO users_rebuilt (id, email, name, password_hash, operator, claimed, created_at)
    SELECT id, email, name, password_hash, operator, (password_hash <> '' OR operator), created_at FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;
CREATE UNIQUE INDEX users_email_claimed ON users (email) WHERE claimed;
CREATE INDEX users_email ON users (email);
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
PRAGMA foreign_keys = OFF;
BEGIN;
DELETE FROM users WHERE NOT claimed AND email IN (SELECT email FROM users GROUP BY email HAVING COUNT(*) > 1);
CREATE TABLE users_rebuilt (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    operator      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);
INSERT INTO users_rebuilt (id, email, name, password_hash, operator, created_at)
    SELECT id, email, name, password_hash, operator, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;
COMMIT;
PRAGMA foreign_keys = ON;
