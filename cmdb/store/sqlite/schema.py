"""The SQLite database schema, as numbered migrations.

Each migration runs once, in order, inside a transaction, and is recorded in
``schema_migrations``. Never edit a released migration: add the next one.
"""

from __future__ import annotations


#: The search keys of the CI in ``row`` (cmdb.model.search), kept by triggers whatever
#: writes the CI: each IP address and MAC, and one ``text`` row (name, asset tag, serial
#: number, host names and FQDN, lower case, each between U+001F separators) that a query
#: is found in with ``instr``, a scan of this compact index several times quicker than
#: ``LIKE`` over the table's columns.
def _keys(row: str, source: str = "") -> str:
    exact = " UNION ".join(
        f"SELECT {row}.id, '{kind}', lower(j.value) FROM {source}"
        f"json_each({row}.attributes, '$.{name}') AS j WHERE j.type = 'text'"
        for kind, name in (("ip", "ip_addresses"), ("mac", "mac_addresses")))
    hosts = (f"(SELECT group_concat(j.value, char(31)) FROM json_each({row}.attributes,"
             f" '$.hostnames') AS j WHERE j.type = 'text')")
    parts = " || char(31) || ".join(
        [f"{row}.name", f"coalesce({row}.asset_tag, '')", f"coalesce({row}.serial_number, '')",
         f"coalesce({hosts}, '')", f"coalesce(json_extract({row}.attributes, '$.fqdn'), '')"])
    text = (f"SELECT {row}.id, 'text', lower(char(31) || {parts} || char(31))"
            f"{' FROM cis' if source else ''}")
    return f"{exact} UNION ALL {text}"


MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "configuration items, relationships, history",
        """
        CREATE TABLE cis (
            id            TEXT PRIMARY KEY,
            class         TEXT NOT NULL,
            name          TEXT NOT NULL,
            state         TEXT NOT NULL,
            asset_tag     TEXT,
            serial_number TEXT,
            serial_key    TEXT,
            attributes    TEXT NOT NULL,
            provenance    TEXT NOT NULL,
            version       INTEGER NOT NULL,
            created_at    TEXT NOT NULL,
            updated_at    TEXT NOT NULL
        );
        CREATE UNIQUE INDEX cis_asset_tag ON cis(asset_tag) WHERE asset_tag IS NOT NULL;
        CREATE UNIQUE INDEX cis_serial_key ON cis(serial_key) WHERE serial_key IS NOT NULL;
        CREATE INDEX cis_name ON cis(name, id);
        CREATE INDEX cis_class_name ON cis(class, name, id);
        CREATE INDEX cis_state ON cis(state);
        CREATE INDEX cis_created ON cis(created_at, id);
        CREATE INDEX cis_updated ON cis(updated_at, id);

        CREATE TABLE relationships (
            id         TEXT PRIMARY KEY,
            type       TEXT NOT NULL,
            source_id  TEXT NOT NULL REFERENCES cis(id),
            target_id  TEXT NOT NULL REFERENCES cis(id),
            attributes TEXT NOT NULL,
            version    INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            ended_at   TEXT
        );
        CREATE INDEX rel_source ON relationships(source_id, type) WHERE ended_at IS NULL;
        CREATE INDEX rel_target ON relationships(target_id, type) WHERE ended_at IS NULL;
        CREATE UNIQUE INDEX rel_active ON relationships(source_id, type, target_id)
            WHERE ended_at IS NULL;

        CREATE TABLE history (
            seq         INTEGER PRIMARY KEY AUTOINCREMENT,
            id          TEXT NOT NULL UNIQUE,
            at          TEXT NOT NULL,
            actor       TEXT NOT NULL,
            channel     TEXT NOT NULL,
            run_id      TEXT,
            action      TEXT NOT NULL,
            entity_kind TEXT NOT NULL,
            entity_id   TEXT NOT NULL,
            ci_id       TEXT NOT NULL,
            peer_id     TEXT,
            reason      TEXT,
            changes     TEXT NOT NULL,
            version     INTEGER
        );
        CREATE INDEX history_ci ON history(ci_id, seq);
        CREATE INDEX history_peer ON history(peer_id, seq) WHERE peer_id IS NOT NULL;
        CREATE INDEX history_actor ON history(actor, seq);
        CREATE INDEX history_run ON history(run_id, seq) WHERE run_id IS NOT NULL;
        """,
    ),
    (
        2,
        "docs: import runs, outcomes, changes, campaigns, findings, tokens",
        """
        CREATE TABLE docs (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            kind       TEXT NOT NULL,
            id         TEXT NOT NULL,
            parent     TEXT,
            key        TEXT,
            data       TEXT NOT NULL,
            version    INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (kind, id)
        );
        CREATE INDEX docs_parent ON docs(kind, parent, seq);
        CREATE INDEX docs_key ON docs(kind, key, seq);
        """,
    ),
    (
        3,
        "search keys: the IP addresses, MACs and host names CIs are found by",
        f"""
        CREATE TABLE ci_keys (
            ci_id TEXT NOT NULL,
            kind  TEXT NOT NULL,
            value TEXT NOT NULL
        );
        CREATE INDEX ci_keys_value ON ci_keys(kind, value, ci_id);
        CREATE INDEX ci_keys_ci ON ci_keys(ci_id);
        CREATE TRIGGER ci_keys_insert AFTER INSERT ON cis BEGIN
            INSERT INTO ci_keys (ci_id, kind, value) {_keys("NEW")};
        END;
        CREATE TRIGGER ci_keys_update
            AFTER UPDATE OF name, asset_tag, serial_number, attributes ON cis BEGIN
            DELETE FROM ci_keys WHERE ci_id = OLD.id;
            INSERT INTO ci_keys (ci_id, kind, value) {_keys("NEW")};
        END;
        CREATE TRIGGER ci_keys_delete AFTER DELETE ON cis BEGIN
            DELETE FROM ci_keys WHERE ci_id = OLD.id;
        END;
        INSERT INTO ci_keys (ci_id, kind, value) {_keys("cis", "cis, ")};
        """,
    ),
]
