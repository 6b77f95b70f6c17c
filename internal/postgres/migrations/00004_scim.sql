-- SCIM provisioning, as in the SQLite store's 00003: per-membership SCIM
-- records of users, and groups. Folded columns are lower-cased by the
-- application (strings.ToLower), so filters fold exactly as on SQLite
-- whatever the database's locale. Deleting a membership fires
-- members_invalidate (00003), so a SCIM DELETE reaches every instance.

-- +goose Up
CREATE TABLE scim_users (
    workspace_id    TEXT COLLATE "C" NOT NULL,
    user_id         TEXT COLLATE "C" NOT NULL,
    user_name       TEXT NOT NULL,
    user_name_lower TEXT COLLATE "C" NOT NULL,
    external_id     TEXT COLLATE "C",
    emails          JSONB NOT NULL, -- array of latchkey.ScimEmail
    doc             JSONB NOT NULL, -- every other attribute
    attrs           JSONB NOT NULL, -- filterable doc attributes, folded (ScimUser.Search)
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    version         BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES members (workspace_id, user_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (workspace_id, user_name_lower);
CREATE INDEX scim_users_external_id ON scim_users (workspace_id, external_id);

CREATE TABLE scim_emails (
    workspace_id TEXT COLLATE "C" NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL,
    position     INTEGER NOT NULL,
    value_lower  TEXT COLLATE "C" NOT NULL,
    type_lower   TEXT COLLATE "C" NOT NULL DEFAULT '',
    is_primary   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (workspace_id, user_id, position),
    FOREIGN KEY (workspace_id, user_id) REFERENCES scim_users (workspace_id, user_id) ON DELETE CASCADE
);
CREATE INDEX scim_emails_value ON scim_emails (workspace_id, value_lower);

CREATE TABLE scim_user_extensions (
    workspace_id TEXT COLLATE "C" NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL,
    urn          TEXT COLLATE "C" NOT NULL,
    attr         TEXT COLLATE "C" NOT NULL,
    type         TEXT NOT NULL,
    multi_valued BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (workspace_id, user_id, urn, attr),
    FOREIGN KEY (workspace_id, user_id) REFERENCES scim_users (workspace_id, user_id) ON DELETE CASCADE
);
CREATE INDEX scim_user_extensions_urn ON scim_user_extensions (workspace_id, urn, attr);

CREATE TABLE scim_groups (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    workspace_id       TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    display_name       TEXT NOT NULL,
    display_name_lower TEXT COLLATE "C" NOT NULL,
    external_id        TEXT COLLATE "C",
    doc                JSONB NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    version            BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (workspace_id, display_name_lower);
CREATE INDEX scim_groups_workspace ON scim_groups (workspace_id, id);
CREATE INDEX scim_groups_external_id ON scim_groups (workspace_id, external_id);

CREATE TABLE scim_group_members (
    group_id     TEXT COLLATE "C" NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    workspace_id TEXT COLLATE "C" NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL,
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
