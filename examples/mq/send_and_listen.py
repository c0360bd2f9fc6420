"""Send and listen over the embedded MQ channel, with an echo peer standing in for the MBFE.

Run from the repository root after ``pip install .`` (nothing else needs to run)::

    python examples/mq/send_and_listen.py            # in a fresh temporary directory
    python examples/mq/send_and_listen.py --dir out  # keep the queue file and journal

What it does, as bank 102100099996:

1. starts ``paymsg mq echo`` in a second process: it reads MSGMBFE_1 (the queue towards
   CNAPS) and answers every message with a ccms.990, as the MBFE front end does;
2. sends three hvps.111 customer transfers through a :class:`Cnaps2Session`: each one is
   validated, written to the journal's outbox, put, and confirmed by its 990;
3. puts on MSGTOBANK_1 (our queue) what the NPC would send us: a forwarded beps.121 package
   and a saps.604 settlement receipt for our first transfer;
4. listens: each inbound message is recorded, answered with our ccms.990 and handed to the
   handler exactly once (the handler writes its own row in the journal's transaction);
   the 604 moves our first transfer to 'settled';
5. prints the journal's status counts. Exit status 0 when everything above happened.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import paymsg
from paymsg import cnaps2
from paymsg.journal import Journal
from paymsg.transport import open_channel
from paymsg.transport.session import Cnaps2Session

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "cnaps2"
BANK = "102100099996"
TO_CNAPS, TO_BANK = "MSGMBFE_1", "MSGTOBANK_1"


def transfers(count: int) -> list[Any]:
    """``count`` hvps.111 documents, each with its own GrpHdr MsgId (the session wraps them)."""
    base = paymsg.parse(
        EXAMPLES / "hvps.111.001.01/customer-transfer-urgent.xml", type="hvps.111.001.01"
    )
    documents = []
    for index in range(count):
        document = copy.deepcopy(base.document)
        document.fito_ficstmr_cdt_trf.grp_hdr.msg_id = f"20240315{index + 1:08d}"
        documents.append(document)
    return documents


def settlement_receipt(msg_id: str) -> bytes:
    """The NPC's saps.604 for our message with GrpHdr MsgId ``msg_id``."""
    receipt = paymsg.parse(EXAMPLES / "saps.604.001.01/settled-hvps111.txt")
    original = receipt.document.sttlm_rtr_rct.orgnl_grp_hdr
    original.orgnl_msg_id, original.orgnl_instg_pty = msg_id, BANK
    return paymsg.serialize(cnaps2.wrap(receipt, sender="0000", receiver=BANK))


def on_message(entry: Any, connection: Any) -> None:
    """The application's handler: runs once per business message, inside the journal's
    transaction, so its row commits together with the delivery mark."""
    connection.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS booked (mesg_id TEXT, mt TEXT, amount TEXT)"
    )
    connection.exec_driver_sql(
        "INSERT INTO booked VALUES (?, ?, ?)", (entry.mesg_id, entry.mt, str(entry.amount))
    )
    print(f"  handler: {entry.mt} {entry.mesg_id} from {entry.sender}, amount {entry.amount}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir", type=Path, default=None, help="where the queue file and journal go"
    )
    args = parser.parse_args(argv)
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="paymsg-mq-"))
    workdir.mkdir(parents=True, exist_ok=True)
    channel_url = f"sqlite:///{workdir / 'mq.db'}"
    journal_url = f"sqlite:///{workdir / 'journal.db'}"
    print(f"channel {channel_url}\njournal {journal_url}")

    echo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paymsg.cli",
            "mq",
            "echo",
            "--channel",
            channel_url,
            "--queue",
            TO_CNAPS,
            "--reply-queue",
            TO_BANK,
            "--idle-exit",
            "60",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        journal = Journal(journal_url)
        session = Cnaps2Session(
            channel_url,
            journal,
            participant=BANK,
            out_queue=TO_CNAPS,
            in_queue=TO_BANK,
            confirm_timeout=30.0,
        )
        with session:
            print("sending 3 hvps.111 …")
            results = session.send_many(transfers(3))
            for result in results:
                print(f"  {result.mesg_id} {result.mt}: {result.status} ({result.code})")
            first = journal.get(results[0].entry_id)

            with open_channel(channel_url) as channel:  # what the NPC sends us
                channel.put(
                    TO_BANK, (EXAMPLES / "beps.121.001.01/forwarded-by-npc.txt").read_bytes()
                )
                channel.put(TO_BANK, settlement_receipt(first.msg_id or ""))
            print("listening …")
            stats = session.listen(on_message, idle_exit=1.0)
        print(
            f"  received {stats.received}, answered {stats.answered}, delivered {stats.delivered}"
        )
        counts = journal.status_counts()
        print(f"outbox {counts['out']}  inbox {counts['in']}")
        settled = journal.get(first.id).status == "settled"
        print(f"first transfer after the saps.604: {journal.get(first.id).status}")
        ok = all(r.status == "confirmed" for r in results) and stats.delivered == 2 and settled
    finally:
        echo.terminate()
        echo.wait(timeout=30)
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
