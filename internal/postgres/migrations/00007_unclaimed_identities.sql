-- Invitations create identities that belong to the inviting workspace until
-- the person claims them (latchkey.User.Claimed). Only claimed accounts log
-- in, so only their emails are unique: several workspaces may each have an
-- unclaimed identity for one address without touching the account that
-- owns it.

-- +goose Up
ALTER TABLE users ADD COLUMN claimed BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET claimed = (password_hash <> '' OR operator);
ALTER TABLE users DROP CONSTRAINT users_email_key;
CREATE UNIQUE INDEX users_email_claimed ON users (email) WHERE claimed;
CREATE INDEX users_email ON users (email);
-- Accepting an invitation with an existing account moves the identity's
-- membership and SCIM rows to the account in one transaction, in an order
-- only deferred checks allow.
ALTER TABLE scim_users ALTER CONSTRAINT scim_users_workspace_id_user_id_fkey DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE scim_emails ALTER CONSTRAINT scim_emails_workspace_id_user_id_fkey DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE scim_user_extensions ALTER CONSTRAINT scim_user_extensions_workspace_id_user_id_fkey DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE scim_group_members ALTER CONSTRAINT scim_group_members_workspace_id_user_id_fkey DEFERRABLE INITIALLY IMMEDIATE;

-- +goose Down
ALTER TABLE scim_users ALTER CONSTRAINT scim_users_workspace_id_user_id_fkey NOT DEFERRABLE;
ALTER TABLE scim_emails ALTER CONSTRAINT scim_emails_workspace_id_user_id_fkey NOT DEFERRABLE;
ALTER TABLE scim_user_extensions ALTER CONSTRAINT scim_user_extensions_workspace_id_user_id_fkey NOT DEFERRABLE;
ALTER TABLE scim_group_members ALTER CONSTRAINT scim_group_members_workspace_id_user_id_fkey NOT DEFERRABLE;
DELETE FROM users WHERE NOT claimed AND email IN (SELECT email FROM users GROUP BY email HAVING COUNT(*) > 1);
DROP INDEX users_email;
DROP INDEX users_email_claimed;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
ALTER TABLE users DROP COLUMN claimed;
