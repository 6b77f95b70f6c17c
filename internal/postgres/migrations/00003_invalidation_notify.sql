-- Every change that affects verification notifies every instance at
-- commit (LISTEN latchkey_invalidate), from the database itself, so no
-- code path can forget to. Usage flushes only move last_used_at and do
-- not notify: they would empty every cache every few seconds.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION latchkey_notify_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(OLD) - 'last_used_at') = (to_jsonb(NEW) - 'last_used_at') THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('latchkey_invalidate', 'key:' || OLD.id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION latchkey_notify_member() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    m members%ROWTYPE;
BEGIN
    IF TG_OP = 'DELETE' THEN
        m := OLD;
    ELSE
        m := NEW;
    END IF;
    PERFORM pg_notify('latchkey_invalidate', 'owner:' || m.workspace_id || ':' || m.user_id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER keys_invalidate AFTER UPDATE OR DELETE ON keys
    FOR EACH ROW EXECUTE FUNCTION latchkey_notify_key();
CREATE TRIGGER members_invalidate AFTER INSERT OR UPDATE OR DELETE ON members
    FOR EACH ROW EXECUTE FUNCTION latchkey_notify_member();

-- +goose Down
DROP TRIGGER members_invalidate ON members;
DROP TRIGGER keys_invalidate ON keys;
DROP FUNCTION latchkey_notify_member();
DROP FUNCTION latchkey_notify_key();
