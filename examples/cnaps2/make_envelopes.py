"""Build the CNAPS2 transport-text examples (*.txt) from the XML bodies beside this file.

Run: ``python examples/cnaps2/make_envelopes.py``. Headers are deterministic (fixed send
time and communication ids); SM2 signatures are not (each uses a fresh random nonce),
so a re-run changes the ``{S:}`` blocks only. Each body gets an unsigned envelope;
hvps.111 and beps.121 bodies also get a signed one, made with the TEST key in keys/
and the ILLUSTRATIVE element lists in signing-example.toml (the official PBOC lists are not public).

It doubles as an example of the API: ``paymsg.cnaps2.wrap`` fills the header from the
document (sender/receiver = instructing/instructed direct participants, system code from
the catalogue, priority from the settlement priority) and signs it.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from itertools import count
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
}


def main() -> None:
    key = tomllib.loads((HERE / "keys" / "test-sm2-key.toml").read_text(encoding="utf-8"))
    profiles = cnaps2.load_signing_profiles(HERE / "signing-example.toml")
    signer = cnaps2.SM2Signer(key["private_key"])
    ids = count(1)

    def next_id() -> str:
        return f"{SENT_AT:%Y%m%d}{next(ids):012d}"

    for body in sorted(HERE.glob("*/*.xml")):
        type_id = body.parent.name
        message = paymsg.parse(body, type=type_id)
        sender, receiver = PARTIES.get(body.stem, (None, None))
        wrapped = cnaps2.wrap(
            message,
            type=type_id,
            sender=sender,
            receiver=receiver,
            now=SENT_AT,
            id_generator=next_id,
        )
        body.with_suffix(".txt").write_bytes(paymsg.serialize(wrapped))
        if type_id in profiles:
            signed = cnaps2.wrap(
                message,
                type=type_id,
                now=SENT_AT,
                id_generator=next_id,
                signer=signer,
                profile=profiles[type_id],
            )
            body.with_name(body.stem + ".signed.txt").write_bytes(paymsg.serialize(signed))


if __name__ == "__main__":
    main()
