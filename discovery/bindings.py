"""Which device each address of a scope was, as earlier sweeps and polls found it.

Ingestion matches by serial, MAC and host name. A host seen only by its address (a loopback service,
a host behind a router, an agent with no MAC and no valid name) has none of these, so the address it
was found at is what says it is the same device next time, whichever method looks."""
from dataclasses import dataclass, replace

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from discovery.models import ScanHost, ScanScope, SnmpTarget
from inventory.models import Device, Interface
from inventory.observations import ObservedDevice


@dataclass(frozen=True)
class Binding:
    device_id: int
    address_only: bool  # the device has no serial, MAC or host name: nothing but the address finds it


def address_bindings(session: Session, scope: ScanScope) -> dict[str, Binding]:
    found: dict[str, int] = {}
    for table in (ScanHost, SnmpTarget):  # SNMP's word last: it knows the device better
        rows = session.execute(select(table.address, table.device_id).where(
            table.scope_id == scope.id, table.device_id.is_not(None)))
        found.update({row.address: row.device_id for row in rows})
    if not found:
        return {}
    has_mac = exists().where(Interface.device_id == Device.id, Interface.mac.is_not(None))
    address_only = set(session.scalars(select(Device.id).where(
        Device.id.in_(set(found.values())), Device.serial.is_(None), Device.hostname.is_(None), ~has_mac)))
    return {address: Binding(device_id, device_id in address_only) for address, device_id in found.items()}


def bind(observation: ObservedDevice, address: str, binding: Binding | None) -> ObservedDevice:
    """The observation, naming the device its address was where nothing else would match it to it.

    A device bound to the address already has an interface with it (it was found there): a MAC-less
    interface holding only the address would be a second one, so it goes."""
    if binding is None:
        return observation
    interfaces = tuple(i for i in observation.interfaces if i.mac or i.ips != (address,))
    if binding.address_only or not (observation.serial or observation.macs or observation.hostname):
        return replace(observation, device_id=binding.device_id, interfaces=interfaces)
    if len(interfaces) == len(observation.interfaces):
        return observation  # nothing to take away: no copy (a site's sweep binds hundreds)
    return replace(observation, interfaces=interfaces)
