"""Audit campaign at scale: ~100k CIs, 100k sightings (SQLite).

Measures opening the campaign (scope snapshot), recording 100k sightings in batches of
10k (findings, progress and ``last_audited_at`` written with them), closing it (MISSING
for every asset never seen), and the campaign page's first screen over HTTP (ASGI).

    .venv/bin/python -m bench.bench_campaign --cis 100000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.generate import build_estate, load
from cmdb.api.app import create_app
from cmdb.model.records import Actor, Channel, Doc
from cmdb.root import connect
from cmdb.services.audit.service import CampaignInput
from cmdb.services.audit.sightings import SightingInput
from cmdb.services.audit.values import OpenFindings
from cmdb.settings import Settings
from cmdb.store.base import StoreTx

PLACES = {"Site", "Building", "Room", "Rack"}


async def run(total: int, sightings: int, batch: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(store_url=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", auth="none")
        estate = build_estate(total)
        cmdb = connect(settings)
        hardware = set(cmdb.registry.descendants("Hardware"))
        for i, ci in enumerate(c for c in estate.cis if c.class_name in hardware):
            ci.asset_tag = f"ZC-{i:07d}"
        await cmdb.open()
        await load(cmdb.store, estate, progress=False)
        actor = Actor(name="bench", channel=Channel.AUDIT)
        home = {r.source_id: r.target_id for r in estate.rels if r.type == "LOCATED_IN"}
        tagged = [c for c in estate.cis if c.asset_tag and c.id in home]
        racks = [c.id for c in estate.cis if c.class_name == "Rack"]
        sites = [c.id for c in estate.cis if c.class_name == "Site"]
        rnd = random.Random(3)
        inputs: list[SightingInput] = []
        start = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
        # every located asset once (a walk covers ~95% of them), then second scans,
        # with 5% in another rack, 2% damaged and 1% unknown tags
        for n in range(sightings):
            at = start + timedelta(seconds=n)
            if rnd.random() < 0.01:
                inputs.append(SightingInput(f"UNKNOWN-{n}", rnd.choice(racks), "good",
                                            seen_at=at))
                continue
            ci = tagged[n % len(tagged)]
            if n < len(tagged) and rnd.random() < 0.05:
                continue
            place = home[ci.id] if rnd.random() > 0.05 else rnd.choice(racks)
            cond = "good" if rnd.random() > 0.02 else "damaged"
            inputs.append(SightingInput(str(ci.asset_tag), place, cond, seen_at=at))
        print(f"{len(estate.cis):,} CIs, {len(estate.rels):,} relationships, "
              f"{len(tagged):,} tagged assets, {len(inputs):,} sightings")

        t = time.perf_counter()
        doc = await cmdb.campaigns.create(actor, CampaignInput("bench", sites))
        await cmdb.campaigns.open(actor, doc.id)
        print(f"open (scope snapshot): {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        for i in range(0, len(inputs), batch):
            await cmdb.campaigns.record_sightings(actor, inputs[i:i + batch], "scan")
        record = time.perf_counter() - t
        print(f"record {len(inputs):,} sightings with their findings: {record:.2f} s "
              f"({len(inputs) / record:,.0f}/s)")
        # Baseline in the same run: only storing that many sighting-sized docs, in the
        # same batches (no lookups, no findings, no progress, no history).
        t = time.perf_counter()
        for i in range(0, len(inputs), batch):
            docs = [Doc(kind="bench_floor", parent="floor", key=s.asset_tag, data={
                "asset_tag": s.asset_tag, "place_id": s.place, "condition": s.condition,
                "seen_at": s.seen_at.isoformat() if s.seen_at else None, "source": "scan"})
                for s in inputs[i:i + batch]]

            async def put(tx: StoreTx, docs: list[Doc] = docs) -> None:
                await tx.put_docs(docs)

            await cmdb.store.write(put)
        floor = time.perf_counter() - t
        print(f"baseline, storing {len(inputs):,} bare sighting docs: {floor:.2f} s; "
              f"recording with findings = {record / floor:.1f}x that")
        t = time.perf_counter()
        again = await cmdb.campaigns.record_sightings(actor, inputs[:batch], "scan")
        print(f"re-record {batch:,} (all duplicates: {again.duplicates:,}): "
              f"{time.perf_counter() - t:.2f} s")

        app = create_app(settings, cmdb=cmdb)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            times = []
            for _ in range(11):
                t = time.perf_counter()
                r = await c.get(f"/campaigns/{doc.id}?lang=zh-CN")
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text[:300]
            p50 = statistics.median(times)
            print(f"campaign page first screen: p50 {p50:.1f} ms, max {max(times):.1f} ms "
                  f"({len(r.content):,} bytes); target < 200 ms: {p50 / 200:.2f}x")
        t = time.perf_counter()
        await cmdb.campaigns.close(actor, doc.id, OpenFindings.LEAVE_OPEN)
        print(f"close (MISSING for the unseen): {time.perf_counter() - t:.2f} s")
        counts = {k: await cmdb.store.count_docs("finding", parent=doc.id, key=k)
                  for k in ("ok:VERIFIED", "open:MISPLACED", "open:ATTRIBUTE_MISMATCH",
                            "open:UNREGISTERED", "open:MISSING")}
        print("findings:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        await cmdb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--sightings", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(run(args.cis, args.sightings, args.batch))


if __name__ == "__main__":
    main()
