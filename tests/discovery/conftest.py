import pytest

from discovery import lab
from tests.discovery import snmp_lab


@pytest.fixture(scope="session")
def snmp_lab_devices(tmp_path_factory):
    """Every lab recording and the fault agents, served by snmpsim for the whole run."""
    lab_dir = tmp_path_factory.mktemp("lab")
    devices = snmp_lab.test_devices() + snmp_lab.fault_devices(lab_dir)
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
