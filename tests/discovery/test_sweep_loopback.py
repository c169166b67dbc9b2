"""Sweeps of loopback hosts this test starts: services on their own addresses, and a DNS server of
its own for the reverse names (the system's resolver is never asked)."""
import os
import socket
import struct
import threading

import pytest
from sqlalchemy import select

from core.encryption import SecretBox
from discovery.models import ScanScope
from discovery.scans import ScanSettings, execute_run, start_run
from discovery.scopes import create_scope
from discovery.sweep import SweepSettings, sweep
from inventory.models import Device, DeviceStatus
from tests.conftest import SECRETS_KEY

PRINTER, SERVER, SILENT = "127.0.9.5", "127.0.9.6", "127.0.9.7"
DNS_SERVER = "127.0.0.77"
NAMES = {PRINTER: "printer-5.ward1.test", SERVER: "files.ward1.test"}


class _Listeners:
    """TCP services on given addresses, accepting and closing connections, until stopped."""

    def __init__(self, services: dict[str, tuple[int, ...]]):
        self.sockets = []
        for address, ports in services.items():
            for port in ports:
                listener = socket.create_server((address, port), reuse_port=True)
                self.sockets.append(listener)
                threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    @staticmethod
    def _accept(listener: socket.socket) -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.close()

    def stop(self, address: str | None = None) -> None:
        for listener in list(self.sockets):
            if address is None or listener.getsockname()[0] == address:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept(): close alone would not
                listener.close()
                self.sockets.remove(listener)


def _ptr_responder(stop: threading.Event) -> tuple[socket.socket, threading.Thread]:
    """A DNS server answering PTR queries for NAMES, NXDOMAIN for anything else."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((DNS_SERVER, 53))
    server.settimeout(0.2)
    reverse = {".".join(reversed(a.split("."))) + ".in-addr.arpa": name for a, name in NAMES.items()}

    def serve():
        while not stop.is_set():
            try:
                query, client = server.recvfrom(512)
            except (TimeoutError, OSError):
                continue
            labels, at = [], 12
            while query[at]:
                labels.append(query[at + 1:at + 1 + query[at]].decode())
                at += 1 + query[at]
            question = query[12:at + 5]
            name = reverse.get(".".join(labels).lower())
            flags = 0x8180 if name else 0x8183
            answer = b""
            if name:
                rdata = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
                answer = struct.pack(">HHHIH", 0xC00C, 12, 1, 60, len(rdata)) + rdata
            server.sendto(query[:2] + struct.pack(">HHHHH", flags, 1, 1 if name else 0, 0, 0) + question + answer,
                          client)
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def loopback_hosts():
    if os.geteuid() != 0:
        pytest.skip("a DNS server on port 53 needs root")
    services = _Listeners({PRINTER: (9100, 515, 631), SERVER: (22, 80, 445)})
    stop = threading.Event()
    dns, responder = _ptr_responder(stop)
    yield services
    stop.set()
    responder.join()
    dns.close()
    services.stop()


SETTINGS = SweepSettings(privileged=False, dns_servers=(DNS_SERVER,))


def test_sweep_finds_services_names_and_hints(loopback_hosts):
    found = sweep([PRINTER, SERVER, SILENT], "127.0.0.0/8", SETTINGS)
    assert [(h.address, h.hostname, [p[:2] for p in h.open_ports]) for h in found] == [
        (PRINTER, "printer-5.ward1.test", [("tcp", 515), ("tcp", 631), ("tcp", 9100)]),
        (SERVER, "files.ward1.test", [("tcp", 22), ("tcp", 80), ("tcp", 445)]),
    ]
    printer_hint = found[0].hints[0]
    assert (printer_hint.device_class, printer_hint.confidence) == ("printer", 0.9)
    assert printer_hint.evidence[0] == "tcp/515 open (LPD)"


def test_dns_servers_outside_the_allowlist_are_refused(loopback_hosts):
    from discovery.errors import OutsideAllowlist
    with pytest.raises(OutsideAllowlist):
        sweep([PRINTER], "127.0.9.0/24", SETTINGS)  # 127.0.0.77 is outside


def test_sweeps_into_the_inventory_and_missing_after_n(loopback_hosts, org):
    settings = ScanSettings(allowlist="127.0.0.0/8", missing_after_scans=2, sweep=SETTINGS)
    with org() as session, session.begin():
        scope_id = create_scope(session, unit_code="W1", name="ward", networks="127.0.9.5-127.0.9.7",
                                allowlist="127.0.0.0/8").id

    def scan():
        with org() as session, session.begin():
            run_id = start_run(session, session.get(ScanScope, scope_id), "nmap", settings).id
        return execute_run(org, run_id, SecretBox([SECRETS_KEY]), settings)

    first = scan()
    assert (first.status, first.mode, first.hosts_answered, first.created) == (
        "finished", "unprivileged: TCP connect scan, no ARP, no UDP, no OS detection", 2, 2)
    with org() as session:
        printer = session.scalars(select(Device).where(Device.hostname == "printer-5.ward1.test")).one()
        assert (printer.device_class, printer.provenance["device_class"]["method"]) == ("printer", "nmap")
        server = session.scalars(select(Device).where(Device.hostname == "files.ward1.test")).one()
        assert server.device_class == "other"  # 22, 80 and 445 say too little to name a class
    second = scan()
    assert (second.created, second.changed, second.unchanged) == (0, 0, 2)
    loopback_hosts.stop(SERVER)
    assert scan().missing == 0
    assert scan().missing == 1
    with org() as session:
        assert session.get(Device, server.id).status is DeviceStatus.MISSING
        assert session.get(Device, printer.id).status is DeviceStatus.IN_USE
