-- SCIM provisioning: per-membership SCIM records of users, and groups.
-- Filters are translated to SQL over these tables, so the columns a filter
-- may test are indexed or derived here, folded to lower case by the
-- application (strings.ToLower) where SCIM compares case-insensitively.

-- +goose Up
-- One row per provisioned membership. It goes with the membership: a
-- removed member is no longer a SCIM user of the workspace.
CREATE TABLE scim_users (
    workspace_id    TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    user_name_lower TEXT NOT NULL,
    external_id     TEXT,          -- NULL when the identity provider sent none
    emails          TEXT NOT NULL, -- JSON array of latchkey.ScimEmail
    doc             TEXT NOT NULL, -- JSON object: every other attribute
    attrs           TEXT NOT NULL, -- JSON object: filterable doc attributes, folded (ScimUser.Search)
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES members (workspace_id, user_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (workspace_id, user_name_lower);
CREATE INDEX scim_users_external_id ON scim_users (workspace_id, external_id);

-- Emails again, one row each, for filters such as emails[type eq "work"].
CREATE TABLE scim_emails (
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    position     INTEGER NOT NULL,
    value_lower  TEXT NOT NULL,
    type_lower   TEXT NOT NULL DEFAULT '',
    is_primary   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (workspace_id, user_id, position),
    FOREIGN KEY (workspace_id, user_id) REFERENCES scim_users (workspace_id, user_id) ON DELETE CASCADE
);
CREATE INDEX scim_emails_value ON scim_emails (workspace_id, value_lower);

-- Attributes seen under custom extension schemas, for /Schemas.
CREATE TABLE scim_user_extensions (
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    urn          TEXT NOT NULL,
    attr         TEXT NOT NULL,
    type         TEXT NOT NULL,
    multi_valued BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (workspace_id, user_id, urn, attr),
    FOREIGN KEY (workspace_id, user_id) REFERENCES scim_users (workspace_id, user_id) ON DELETE CASCADE
);
CREATE INDEX scim_user_extensions_urn ON scim_user_extensions (workspace_id, urn, attr);

CREATE TABLE scim_groups (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    display_name       TEXT NOT NULL,
    display_name_lower TEXT NOT NULL,
    external_id        TEXT,
    doc                TEXT NOT NULL, -- JSON object: extension attributes
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    version            BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (workspace_id, display_name_lower);
CREATE INDEX scim_groups_workspace ON scim_groups (workspace_id, id);
CREATE INDEX scim_groups_external_id ON scim_groups (workspace_id, external_id);

-- A member leaves every group with their SCIM record.
CREATE TABLE scim_group_members (
    group_id     TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES scim_users (workspace_id, user_id) ON DELETE CASCADE
);
CREATE INDEX scim_group_members_user ON scim_group_members (workspace_id, user_id);

-- +goose Down
DROP TABLE scim_group_members;
DROP TABLE scim_groups;
DROP TABLE scim_user_extensions;
DROP TABLE scim_emails;
DROP TABLE scim_users;
