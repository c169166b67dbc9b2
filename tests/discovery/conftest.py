import pytest

from discovery import lab
from tests.discovery import snmp_lab


@pytest.fixture(scope="session")
def snmp_lab_devices(tmp_path_factory):
    """Every lab recording, the devices of the generic rules and the fault agents, served by snmpsim for the
    whole run."""
    lab_dir = tmp_path_factory.mktemp("lab")
    devices = snmp_lab.recorded_devices() + snmp_lab.generic_devices(lab_dir) + snmp_lab.fault_devices(lab_dir)
    lab.start(lab_dir, devices, snmp_lab.PORT)
    answering = [d for d in devices if d.name != "answers-errors" and d.name != "answers-late"]
    ready = lab.wait_ready(answering, snmp_lab.PORT, timeout=120)
    assert ready == len(answering), "the lab's simulators did not all start"
    yield {device.name: device for device in devices}
    lab.stop(lab_dir)


@pytest.fixture(scope="session")
def snmpd_v3(tmp_path_factory):
    process = snmp_lab.start_snmpd(tmp_path_factory.mktemp("snmpd"))
    if process is None:
        pytest.skip("net-snmp's snmpd is not installed (Debian package snmpd)")
    yield snmp_lab.SNMPD_ADDRESS
    process.terminate()
    process.wait(5)


@pytest.fixture(scope="session")
def test_network(tmp_path_factory):
    """Five hosts in network namespaces behind the bridge rdtbr0 (tests/discovery/netns.py), for the
    whole run; skipped, with the reason, where they cannot be built or 10.213.7.0/24 is routed already."""
    from tests.discovery import netns
    try:
        network = netns.start(tmp_path_factory.mktemp("netns"))
    except netns.Unavailable as error:
        pytest.skip(error.reason)
    yield network
    network.stop()
