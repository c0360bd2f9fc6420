"""paymsg — read, build, check and translate payment messages (ISO 20022 and CNAPS2).

Everything public is re-exported here::

    import paymsg
    msg = paymsg.parse("examples/iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml")
    msg.type, msg.document, msg.envelope
    paymsg.serialize(msg); paymsg.to_json(msg); paymsg.from_json(text)
"""

from importlib.metadata import PackageNotFoundError, version

from paymsg.codec.api import detect, parse, serialize
from paymsg.codec.envelope import wrap as cnaps2
from paymsg.codec.json.engine import from_json, to_json
from paymsg.codec.message import BusinessEnvelope, Detection, Message
from paymsg.codec.stream.reader import TransactionStream
from paymsg.codec.xml.safe import Limits
from paymsg.convert import Conversion, LossEntry, convert
from paymsg.errors import (
    BindingError,
    CodegenError,
    ConfigError,
    ConversionError,
    ConversionLossError,
    EnvelopeError,
    InputError,
    MalformedXMLError,
    PaymsgError,
    SignatureError,
    UnknownMessageTypeError,
    UnsafeXMLError,
)
from paymsg.schema.catalog import Catalog, MessageType, catalog
from paymsg.validation import Finding, Report, ValidationConfig, validate
from paymsg.validation.stream import iter_transactions

try:
    __version__ = version("paymsg")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "BindingError",
    "BusinessEnvelope",
    "Catalog",
    "CodegenError",
    "ConfigError",
    "Conversion",
    "ConversionError",
    "ConversionLossError",
    "Detection",
    "EnvelopeError",
    "Finding",
    "InputError",
    "Limits",
    "LossEntry",
    "MalformedXMLError",
    "Message",
    "MessageType",
    "PaymsgError",
    "Report",
    "SignatureError",
    "TransactionStream",
    "UnknownMessageTypeError",
    "UnsafeXMLError",
    "ValidationConfig",
    "__version__",
    "catalog",
    "cnaps2",
    "convert",
    "detect",
    "from_json",
    "iter_transactions",
    "parse",
    "serialize",
    "to_json",
    "validate",
]
