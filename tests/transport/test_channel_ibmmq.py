"""The IBM MQ channel where it can be checked without a queue manager: URL and packaging.

Its behaviour against a queue manager is covered by the conformance suite when
``PAYMSG_IBMMQ_URL`` and ``PAYMSG_IBMMQ_QUEUES`` are set; nowhere on this project's machines.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from paymsg.errors import ConfigError
from paymsg.transport import mask_url, open_channel
from paymsg.transport.ibmmq import parse_ibmmq_url
from tests.transport.conftest import ROOT


def test_the_url_gives_the_connection_settings() -> None:
    settings = parse_ibmmq_url(
        "ibmmq://app:s%40cret@mq1.bank.example:1415,mq2.bank.example/QM1/DEV.APP.SVRCONN"
        "?tls_cipher=ANY_TLS12_OR_HIGHER&key_repository=/var/mqm/ssl/key&cert_label=paymsg"
        "&backout_queue={queue}.BO&delivery_limit=3&reconnect=any&heartbeat=30",
        max_in_flight=2,
    )
    assert settings.queue_manager == "QM1"
    assert settings.channel == "DEV.APP.SVRCONN"
    assert settings.connection_name == "mq1.bank.example(1415),mq2.bank.example(1414)"
    assert (settings.user, settings.password) == ("app", "s@cret")
    assert settings.tls_cipher == "ANY_TLS12_OR_HIGHER"
    assert (settings.key_repository, settings.cert_label) == ("/var/mqm/ssl/key", "paymsg")
    assert settings.backout_queue == "{queue}.BO"
    assert (settings.delivery_limit, settings.reconnect, settings.heartbeat) == (3, "any", 30)
    assert settings.max_in_flight == 2
    assert "s@cret" not in repr(settings)


def test_defaults() -> None:
    settings = parse_ibmmq_url("ibmmq://localhost/QM1/DEV.APP.SVRCONN")
    assert settings.connection_name == "localhost(1414)"
    assert settings.user is None and settings.tls_cipher is None
    assert (settings.reconnect, settings.reconnect_deadline, settings.delivery_limit) == (
        "qmgr",
        60.0,
        None,  # then the queue's BOTHRESH, else 5
    )


@pytest.mark.parametrize(
    ("url", "word"),
    [
        ("ibmmq://host/QM1", "QMGR/CHANNEL"),
        ("ibmmq://host:70000/QM1/CH", "port"),
        ("ibmmq://ho st/QM1/CH", "host"),
        ("ibmmq://host/QM 1/CH", "queue manager"),
        ("ibmmq://host/QM1/A.CHANNEL.NAME.TOO.LONG", "channel"),
        ("ibmmq://host/QM1/CH?reconnect=maybe", "reconnect"),
        ("ibmmq://host/QM1/CH?delivery_limit=0", "delivery_limit"),
        ("ibmmq://host/QM1/CH?colour=blue", "unknown"),
    ],
)
def test_bad_urls_are_config_errors(url: str, word: str) -> None:
    with pytest.raises(ConfigError, match=word):
        parse_ibmmq_url(url)


def test_the_password_is_masked() -> None:
    assert mask_url("ibmmq://app:pw@mq1:1414,mq2/QM1/CH") == "ibmmq://app:***@mq1:1414,mq2/QM1/CH"


@pytest.mark.skipif(
    importlib.util.find_spec("ibmmq") is not None, reason="IBM's ibmmq package is installed"
)
def test_without_ibms_package_opening_says_what_to_install() -> None:
    with pytest.raises(ConfigError, match=r'pip install "paymsg\[ibmmq\]"') as caught:
        open_channel("ibmmq://app:pw@localhost/QM1/DEV.APP.SVRCONN")
    assert "MQ client library" in str(caught.value)


def test_paymsg_imports_without_the_optional_broker_packages() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('ibmmq', 'pika'):\n"
        "            raise ImportError(f'blocked {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import paymsg, paymsg.transport\n"
        "from paymsg.transport import open_channel\n"
        "ch = open_channel('sqlite:///' + sys.argv[1])\n"
        "ch.declare('Q'); ch.put('Q', b'x'); print(ch.get('Q').body.decode())\n"
        "for url in ('amqp://h/', 'ibmmq://h/QM/CH'):\n"
        "    try:\n"
        "        open_channel(url)\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__, exc.hint)\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-c", code, f"{tmp}/q.db"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "x"
    assert lines[1].startswith("ConfigError") and "paymsg[rabbitmq]" in lines[1]
    assert lines[2].startswith("ConfigError") and "paymsg[ibmmq]" in lines[2]
