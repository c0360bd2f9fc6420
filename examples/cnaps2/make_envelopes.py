"""Build the CNAPS2 transport-text examples (*.txt) from the XML bodies beside this file.

Run: ``python examples/cnaps2/make_envelopes.py [TYPE_ID...]`` (no argument: every type;
else only the folders named, e.g. ``hvps.715.001.01``). Headers are deterministic (fixed
send time; each file's communication id is derived from its own name, so adding or
rebuilding one folder leaves the others' headers alone); SM2 signatures are not (each uses
a fresh random nonce), so a re-run changes the ``{S:}`` blocks only. Each body gets an
unsigned envelope; hvps.111 and beps.121 bodies also get a signed one, made with the TEST
key in keys/ and the ILLUSTRATIVE element lists in signing-example.toml (the official PBOC
lists are not public).

It doubles as an example of the API: ``paymsg.cnaps2.wrap`` fills the header from the
document (sender/receiver = instructing/instructed direct participants, system code from
the catalogue, priority from the settlement priority) and signs it.
"""

from __future__ import annotations

import sys
import tomllib
import zlib
from datetime import datetime
from pathlib import Path

import paymsg
from paymsg import cnaps2

HERE = Path(__file__).resolve().parent
SENT_AT = datetime(2024, 3, 15, 10, 30, 0)

# ccms.990 / ccms.911 bodies name the confirmed message's sender, not their own parties
PARTIES = {
    "bank-confirms-npc-forwarded-beps121": ("102100099996", "0000"),
    "npc-confirms-hvps111": ("0000", "102100099996"),
    "duplicate-hvps111": ("0000", "102100099996"),
    "signature-failure-beps121": ("0000", "313331000014"),
    # ccms.991/992 have no group header: the probe travels between a bank's node and the NPC
    "bank-probes-npc": ("102100099996", "0000"),
    "npc-probes-bank": ("0000", "313290000017"),
    "npc-answers-bank-probe": ("0000", "102100099996"),
    "bank-answers-npc-probe": ("313290000017", "0000"),
}


def communication_id(name: str) -> str:
    """A header MesgID for the example file ``name``: the send date and 12 digits derived
    from the name (stable whatever other examples exist)."""
    return f"{SENT_AT:%Y%m%d}{zlib.crc32(name.encode()):012d}"


def main(only: list[str]) -> None:
    key = tomllib.loads((HERE / "keys" / "test-sm2-key.toml").read_text(encoding="utf-8"))
    profiles = cnaps2.load_signing_profiles(HERE / "signing-example.toml")
    signer = cnaps2.SM2Signer(key["private_key"])

    for body in sorted(HERE.glob("*/*.xml")):
        type_id = body.parent.name
        if only and type_id not in only:
            continue
        message = paymsg.parse(body, type=type_id)
        sender, receiver = PARTIES.get(body.stem, (None, None))
        wrapped = cnaps2.wrap(
            message,
            type=type_id,
            sender=sender,
            receiver=receiver,
            now=SENT_AT,
            mesg_id=communication_id(f"{type_id}/{body.stem}"),
        )
        body.with_suffix(".txt").write_bytes(paymsg.serialize(wrapped))
        if type_id in profiles:
            signed = cnaps2.wrap(
                message,
                type=type_id,
                now=SENT_AT,
                mesg_id=communication_id(f"{type_id}/{body.stem}.signed"),
                signer=signer,
                profile=profiles[type_id],
            )
            body.with_name(body.stem + ".signed.txt").write_bytes(paymsg.serialize(signed))


if __name__ == "__main__":
    main(sys.argv[1:])
