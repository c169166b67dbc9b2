"""Sweeps with nmap (through python-nmap): which hosts of a scope are there, their MAC and its maker,
open ports that tell what they are, reverse DNS name and OS guess where allowed. Network part only:
what it finds goes to `discovery.scans`, which stores it through ingestion.

Privileged (root): SYN scan, ARP discovery on directly attached segments (nmap does it by itself),
UDP 161, OS detection. Unprivileged: TCP connect scan, no ARP, no UDP, no OS guess. The run says
which mode ran. The allowlist is checked again right before each nmap command."""
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import netaddr
import nmap

from core.errors import DomainError
from discovery.allowlist import require_allowed
from discovery.hints import Hint, hints
from discovery.snmp.identify import mac_vendor as registry_vendor

DEFAULT_TCP_PORTS = (22, 23, 80, 443, 445, 515, 554, 631, 3389, 5060, 9100)
DEFAULT_UDP_PORTS = (161,)
LOOPBACK = netaddr.IPSet(["127.0.0.0/8", "::1/128"])


class SweepFailed(DomainError):
    """nmap could not run or did not finish: the run fails with this reason, nothing is stored."""
    status_code = 502


@dataclass(frozen=True)
class SweepSettings:
    tcp_ports: tuple[int, ...] = DEFAULT_TCP_PORTS
    udp_ports: tuple[int, ...] = DEFAULT_UDP_PORTS
    privileged: bool | None = None  # None: privileged when running as root
    os_detection: bool = True
    # Reverse DNS asks these servers; none: no lookups, since the system's resolver may lie outside the
    # allowlist. Each must be inside the allowlist.
    dns_servers: tuple[str, ...] = ()
    chunk: int = 256              # addresses per nmap command: the run's progress moves per chunk
    host_timeout_s: int = 120
    nmap_path: str = "nmap"


@dataclass(frozen=True)
class FoundHost:
    address: str
    mac: str | None
    mac_vendor: str | None
    hostname: str | None
    open_ports: tuple[tuple[str, int, str], ...]  # (protocol, port, service name)
    os_guess: str | None
    hints: tuple[Hint, ...]


def is_privileged(settings: SweepSettings) -> bool:
    return os.geteuid() == 0 if settings.privileged is None else settings.privileged


def describe_mode(settings: SweepSettings) -> str:
    if is_privileged(settings):
        extras = ", UDP " + ",".join(map(str, settings.udp_ports)) if settings.udp_ports else ""
        return "privileged: SYN scan, ARP on attached segments" + extras + \
            (", OS detection" if settings.os_detection else "")
    return "unprivileged: TCP connect scan, no ARP, no UDP, no OS detection"


def nmap_arguments(settings: SweepSettings, ipv6: bool = False) -> str:
    """The nmap options of a sweep (hosts and ports aside), as a person would type them."""
    options = ["-T4", f"--host-timeout {settings.host_timeout_s}s"]
    if ipv6:
        options.append("-6")
    if is_privileged(settings):
        options.append("-sS")
        if settings.udp_ports:
            options.append("-sU")
        if settings.os_detection:
            options.append("-O --osscan-limit --max-os-tries 1")
    else:
        options.append("-sT --unprivileged")
    options.append(f"--dns-servers {','.join(settings.dns_servers)}" if settings.dns_servers else "-n")
    return " ".join(options)


def port_list(settings: SweepSettings) -> str:
    tcp = "T:" + ",".join(map(str, settings.tcp_ports)) if settings.tcp_ports else ""
    udp = "U:" + ",".join(map(str, settings.udp_ports)) if settings.udp_ports and is_privileged(settings) else ""
    return ",".join(part for part in (tcp, udp) if part)


def sweep(addresses: Sequence[str], allowlist: str, settings: SweepSettings = SweepSettings(),
          progress: Callable[[int, int], None] = lambda done, total: None) -> list[FoundHost]:
    """The hosts present among `addresses`, chunk by chunk; SweepFailed if nmap is missing or dies."""
    scanner = None
    found: list[FoundHost] = []
    done = 0
    for chunk in _chunks(addresses, settings.chunk):
        # Right before nmap runs, whatever checked the scope before: the allowlist may have changed.
        require_allowed(netaddr.IPSet(chunk), allowlist)
        if settings.dns_servers:
            require_allowed(netaddr.IPSet(settings.dns_servers), allowlist, field="dns_servers")
        ipv6 = netaddr.IPAddress(chunk[0]).version == 6
        scanner = scanner or _scanner(settings.nmap_path)
        try:
            result = scanner.scan(hosts=" ".join(chunk), ports=port_list(settings),
                                  arguments=nmap_arguments(settings, ipv6))
        except nmap.PortScannerError as error:
            raise SweepFailed(f"nmap ended before finishing: {_one_line(error)}") from None
        found += [host for host in (_host(address, result["scan"][address]) for address in result["scan"])
                  if host is not None]
        done += len(chunk)
        progress(done, len(addresses))
    return sorted(found, key=lambda h: netaddr.IPAddress(h.address))


def _scanner(path: str) -> nmap.PortScanner:
    try:
        return nmap.PortScanner(nmap_search_path=(path,))
    except nmap.PortScannerError:
        raise SweepFailed(f"nmap is not installed at {path} (Debian package nmap)") from None


def _chunks(addresses: Sequence[str], size: int) -> list[list[str]]:
    """Chunks of one IP version each (nmap scans IPv4 and IPv6 in separate commands)."""
    by_version: dict[int, list[str]] = {}
    for address in addresses:
        by_version.setdefault(netaddr.IPAddress(address).version, []).append(address)
    return [group[start:start + size] for group in by_version.values() for start in range(0, len(group), size)]


def _host(address: str, data: dict) -> FoundHost | None:
    """A host as nmap saw it; None for a loopback address where no service answers (every loopback
    address answers a ping, so only a service there makes a host)."""
    if data.get("status", {}).get("state") != "up":
        return None
    ports = tuple((proto, port, info.get("name", "")) for proto in ("tcp", "udp")
                  for port, info in sorted(data.get(proto, {}).items()) if info.get("state") == "open")
    if address in LOOPBACK and not ports:
        return None
    mac = data.get("addresses", {}).get("mac")
    mac = mac.lower() if mac else None
    vendor = registry_vendor(mac) or (data.get("vendor") or {}).get(mac.upper() if mac else "", None)
    names = [h.get("name") for h in data.get("hostnames", []) if h.get("name")]
    os_matches = data.get("osmatch") or []
    os_guess = os_matches[0]["name"] if os_matches and int(os_matches[0].get("accuracy", 0)) >= 90 else None
    return FoundHost(address, mac, vendor, names[0] if names else None, ports, os_guess,
                     tuple(hints(((proto, port) for proto, port, _ in ports), vendor)))


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text[:300] or "no output (killed?)"
