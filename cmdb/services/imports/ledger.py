"""The in-file duplicate check: which identifying values (and CIs) earlier records of
the file already used. A record reusing one is a duplicate: the file states two things
about one asset.

The keys live in a dict, ten times quicker than any table; past ``memory_keys`` of them
(a file of more than about fifty thousand records) they move to the store's scratch
space on disk (:meth:`~cmdb.store.base.Store.scratch_keys`), so a million-row file costs
disk, not memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cmdb.store.base import ScratchKeys, Store

#: About 30 MB of keys: five per record of a 50,000-record file.
MEMORY_KEYS = 250_000
Claim = tuple[str, int | None] | None
#: One record's identifying values: per kind (an identification rule), the values.
Keys = Mapping[str, Sequence[str]]


class KeyLedger:
    """Values already used by the file's earlier records, with the line of each first
    use; a value is one of a kind (a rule's, or a matched CI's id)."""

    def __init__(self, store: Store, memory_keys: int = MEMORY_KEYS) -> None:
        self.store = store
        self.memory_keys = memory_keys
        self.memory: dict[str, dict[str, int | None]] = {}
        self.size = 0
        self.disk: ScratchKeys | None = None

    def claim(self, entries: Sequence[tuple[Keys, str | None, int | None]]) -> list[Claim]:
        """For each entry (values by kind, the id of the CI it matched or ``None``,
        line): ``None``, or ``"kind:value"`` an earlier record used and that record's
        line. Entries that are not duplicates claim their values (and the CI, as kind
        ``ci``)."""
        memory = self.memory
        earlier: dict[str, int | None] = {}
        if self.disk is not None:
            asked = sorted({f"{kind}:{v}" for keys, ci_id, _ in entries
                            for kind, values in (*keys.items(), ("ci", [ci_id] if ci_id else []))
                            for v in values if v not in memory.get(kind, ())})
            earlier = self.disk.lines(asked) if asked else {}
        out: list[Claim] = []
        cis = memory.setdefault("ci", {})
        tables: dict[str, dict[str, int | None]] = {}
        for keys, ci_id, line in entries:
            found: Claim = None
            for kind, values in keys.items():
                if not values:
                    continue
                used = tables.get(kind)
                if used is None:
                    used = tables[kind] = memory.setdefault(kind, {})
                for value in values:
                    if value in used:
                        found = (f"{kind}:{value}", used[value])
                        break
                    if earlier and f"{kind}:{value}" in earlier:
                        found = (f"{kind}:{value}", earlier[f"{kind}:{value}"])
                        break
                if found is not None:
                    break
            if found is None and ci_id is not None:
                if ci_id in cis:
                    found = (f"ci:{ci_id}", cis[ci_id])
                elif earlier and f"ci:{ci_id}" in earlier:
                    found = (f"ci:{ci_id}", earlier[f"ci:{ci_id}"])
            out.append(found)
            if found is None:
                for kind, values in keys.items():
                    if values:
                        used = tables[kind]
                        for value in values:
                            used[value] = line
                        self.size += len(values)
                if ci_id is not None:
                    cis[ci_id] = line
                    self.size += 1
        if self.size > self.memory_keys:
            if self.disk is None:
                self.disk = self.store.scratch_keys()
            self.disk.add((f"{kind}:{value}", line) for kind, used in memory.items()
                          for value, line in used.items())
            memory.clear()
            self.size = 0
        return out

    def close(self) -> None:
        if self.disk is not None:
            self.disk.close()
            self.disk = None
        self.memory.clear()
