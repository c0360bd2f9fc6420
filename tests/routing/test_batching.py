"""BEPS batching: packages per receiver and 业务类型, closing on count/amount/age/cut-off,
the closed package is a valid beps.121, and a kill -9 loses nothing and doubles nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import paymsg
from paymsg.journal import Journal
from paymsg.routing import Facts, Instruction, Router, compile_rules, load_facts, load_rules
from paymsg.routing.batching import BepsBatcher
from paymsg.routing.store import RoutingStore

EX = Path(__file__).parents[2] / "examples" / "routing"
T0 = datetime(2026, 12, 7, 10, 0)


def _router() -> Router:
    return Router(
        compile_rules(load_rules(EX / "rules.toml")), Facts(load_facts(EX / "facts.toml"))
    )


def _pay(
    i: int, amount: str = "1000.00", bank: str = "105290036005", btype: str = "A100"
) -> Instruction:
    return Instruction.model_validate(
        {"id": f"B{i:05d}", "amount": amount, "debtor_bank": "102100024015", "debtor_account": "62220202001",
         "debtor_name": "张三", "creditor_bank": bank, "creditor_account": "621700001", "creditor_name": "李四",
         "business_type": btype}
    )  # fmt: skip


def _batcher(tmp_path: Path, **kw: object) -> BepsBatcher:
    store = RoutingStore(Journal(f"sqlite:///{tmp_path / 'j.db'}").engine)
    return BepsBatcher(store, participant="102100099996", **kw)  # type: ignore[arg-type]


def test_packages_per_receiver_and_business_type_close_on_count(tmp_path: Path) -> None:
    b = _batcher(tmp_path, max_items=3)
    router = _router()
    closed = []
    for i in range(7):
        p = _pay(i, bank="105290036005" if i % 2 else "103100000026", btype="A100")
        closed += b.add(p, router.decide(p, T0), T0)
    assert [(c.receiver, c.count, c.reason) for c in closed] == [
        ("103100000026", 3, "count"),
        ("105100000017", 3, "count"),
    ]
    p = _pay(99, btype="A201")
    b.add(p, router.decide(p, T0), T0)
    opened = {(o["receiver"], o["business_type"], o["count"]) for o in b.open_packages()}
    assert opened == {("103100000026", "A100", 1), ("105100000017", "A201", 1)}
    text = closed[0].text
    msg = paymsg.parse(text)
    assert msg.type == "beps.121.001.01"
    assert paymsg.validate(text).ok
    data = json.loads(paymsg.to_json(msg))["document"]["CstmrCdtTrf"]
    header = data["PKGGrpHdr"]
    assert header["NbOfTxs"] == "3" and header["CtrlSum"]["#text"] == "3000.00"
    assert header["InstgPty"]["InstgDrctPty"] == "102100099996"
    assert header["InstdPty"]["InstdDrctPty"] == "103100000026"
    assert len(data["CstmrCdtTrfInf"]) == 3


def test_amount_limit_closes_before_the_item_that_does_not_fit(tmp_path: Path) -> None:
    b = _batcher(tmp_path, max_amount=Decimal("100000.00"))
    router = _router()
    closed = []
    for i, amount in enumerate(["40000.00", "40000.00", "30000.00"]):
        p = _pay(i, amount)
        closed += b.add(p, router.decide(p, T0), T0)
    assert [(c.count, c.total, c.reason) for c in closed] == [(2, Decimal("80000.00"), "amount")]
    assert b.open_packages()[0]["count"] == 1


def test_age_and_cutoff_close_open_packages(tmp_path: Path) -> None:
    b = _batcher(tmp_path, max_age=timedelta(minutes=10), cutoffs=(time(11, 0),))
    router = _router()
    p = _pay(1)
    b.add(p, router.decide(p, T0), T0)
    assert b.due(T0 + timedelta(minutes=5)) == []
    assert [c.reason for c in b.due(T0 + timedelta(minutes=10))] == ["age"]
    late = datetime(2026, 12, 7, 10, 58)
    q = _pay(2)
    b.add(q, router.decide(q, late), late)
    assert [c.reason for c in b.due(datetime(2026, 12, 7, 11, 0))] == ["cutoff 11:00"]


def test_adding_the_same_payment_twice_is_a_no_op(tmp_path: Path) -> None:
    b = _batcher(tmp_path)
    router = _router()
    p = _pay(1)
    b.add(p, router.decide(p, T0), T0)
    b.add(p, router.decide(p, T0), T0)
    assert b.open_packages()[0]["count"] == 1
    closed = b.close_all(T0)
    assert closed[0].payment_ids == ("B00001",) and b.unsent()[0].id == closed[0].id
    b.mark_sent(closed[0].id)
    assert b.unsent() == []


WORKER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from pathlib import Path
    from paymsg.journal import Journal
    from paymsg.routing import Facts, Instruction, Router, compile_rules, load_facts, load_rules
    from paymsg.routing.batching import BepsBatcher
    from paymsg.routing.store import RoutingStore
    ex = Path(sys.argv[2])
    router = Router(compile_rules(load_rules(ex / "rules.toml")), Facts(load_facts(ex / "facts.toml")))
    b = BepsBatcher(RoutingStore(Journal(sys.argv[1]).engine), participant="102100099996", max_items=7)
    now = datetime(2026, 12, 7, 10, 0)
    for i in range(int(sys.argv[3])):
        p = Instruction(id=f"K{i:05d}", amount="10.00", debtor_bank="102100024015",
                        creditor_bank="105290036005", debtor_account="1", creditor_account="2")
        b.add(p, router.decide(p, now), now)
        if i == 40:
            print("ready", flush=True)
    """
)


def test_kill_9_while_batching_loses_and_doubles_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    script = tmp_path / "w.py"
    script.write_text(WORKER)
    proc = subprocess.Popen(
        [sys.executable, str(script), url, str(EX), "400"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # the restart adds every payment again: the ones already in are skipped
    subprocess.run([sys.executable, str(script), url, str(EX), "400"], check=True)
    b = BepsBatcher(RoutingStore(Journal(url).engine), participant="102100099996", max_items=7)
    b.close_all(datetime(2026, 12, 7, 17, 0))
    packages = b.unsent()
    ids = [i for p in packages for i in p.payment_ids]
    assert sorted(ids) == [f"K{i:05d}" for i in range(400)]
    assert all(p.count == len(p.payment_ids) for p in packages)
    assert all(paymsg.parse(p.text).type == "beps.121.001.01" for p in packages[:3])
