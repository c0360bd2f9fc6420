"""Rule pack ``cnaps2``: CNAPS2 header ⇄ body consistency and HVPS/BEPS/CCMS business rules.

Every fact used here comes from the reference ``cnaps2.md`` (section numbers in the
docstrings) with its confidence tag: ``[C2+]`` two or more public sources, ``[S1]`` one
source, ``[INF]`` our inference, ``[NF]`` not found. Rules that rest on ``[S1]``/``[INF]``
facts report warnings.

The business type (业务类型) and category (业务种类) codes are DATA, not code: the shipped
table is ``paymsg/reference/data/cnaps2-codes.toml``; :func:`load_code_table` also reads
NPC's own table, a ccms.906.001.01 message (业务种类与类型管理报文), which replaces the shipped
one when ``ValidationConfig.cnaps2_code_table`` points at it.

Header findings (a problem inside the ``{H:}`` block itself) use the path
``{H:}/<FieldName>`` and line 1, the header being the first line of the transport text.
"""

from paymsg.validation.rules.cnaps2 import (
    amounts,
    beps,
    codes,
    header,
    hvps,
    identifiers,
    recon,
    remittance,
)
from paymsg.validation.rules.cnaps2.codes import load_code_table

__all__ = [
    "amounts",
    "beps",
    "codes",
    "header",
    "hvps",
    "identifiers",
    "load_code_table",
    "recon",
    "remittance",
]
