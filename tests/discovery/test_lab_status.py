"""`flask lab start` and `flask lab status` say why a lab device does not answer, in real situations: a
lab of two devices of its own (127.0.7.N, port 16171) started through the commands, another process
holding one device's address and port, a simulator killed."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import create_app
from discovery import lab
from tests.conftest import SECRETS_KEY

PORT = 16171
CAMERA = lab.LabDevice("wds-camera", "camera/wds-ips-1022.snmprec", "127.0.7.1")
UPS = lab.LabDevice("eaton-ups", "UPS/eaton-93e-80.snmprec", "127.0.7.2")
SQUATTER_NAME = "udp-squatter"  # its /proc/PID/comm, set through prctl(PR_SET_NAME)
SQUATTER = f"""
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, b"{SQUATTER_NAME}", 0, 0, 0)
held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
held.bind((sys.argv[1], int(sys.argv[2])))
print("bound", flush=True)
time.sleep(600)
"""


@pytest.fixture
def lab_app(tmp_path, sqlite_template):
    """The app with a lab folder of its own and a table of the two devices; every simulator stopped after."""
    database = tmp_path / "test.sqlite3"
    database.write_bytes(sqlite_template.read_bytes())
    lab_dir = tmp_path / "lab"
    app = create_app({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "test", "SECRETS_KEYS": SECRETS_KEY,
                      "TESTING": True, "LAB_FOLDER": str(lab_dir)})
    (tmp_path / "devices.csv").write_text("name,recording,address\n" + "".join(
        f"{d.name},{d.recording},{d.address}\n" for d in (CAMERA, UPS)))
    yield app, lab_dir, tmp_path / "devices.csv"
    lab.stop(lab_dir)
    app.extensions["engine"].dispose()


@pytest.fixture
def squatter():
    """Another process holding the UPS's address and port, as a stray snmpd would; its process."""
    process = subprocess.Popen([sys.executable, "-c", SQUATTER, UPS.address, str(PORT)], stdout=subprocess.PIPE)
    try:
        assert process.stdout.readline() == b"bound\n"
        yield process
    finally:
        process.kill()
        process.wait(10)


def wait_for_condition(lab_dir: Path, device: lab.LabDevice, condition: lab.Condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (state := lab.diagnose(lab_dir, [device], PORT)[0]).condition is not condition:
        assert time.monotonic() < deadline, f"{device.name} is {state.condition}, not {condition}: {state.reason}"
        time.sleep(0.2)


def lab_command(app, *args: str):
    return app.test_cli_runner().invoke(args=["lab", *args])


def start_lab(app, devices_file: Path):
    return lab_command(app, "start", "--port", str(PORT), "--devices", str(devices_file))


def test_a_lab_that_answers_says_so(lab_app):
    app, lab_dir, devices_file = lab_app
    started = start_lab(app, devices_file)
    assert (started.exit_code, started.output.splitlines()[-1]) == (
        0, "lab: 2 of 2 devices answer SNMP (community 'public', port 16171) on 127.0.7.1 to 127.0.7.2"), started.output
    status = lab_command(app, "status")
    assert (status.exit_code, status.output) == (0, "wds-camera (127.0.7.1:16171): answers\n"
                                                    "eaton-ups (127.0.7.2:16171): answers\n"
                                                    "lab: 2 of 2 devices answer\n")


def test_an_address_held_by_another_process_names_it_and_start_fails(lab_app, squatter):
    app, lab_dir, devices_file = lab_app
    started = start_lab(app, devices_file)
    assert started.exit_code == 1, started.output
    assert started.output.splitlines()[-3:] == [
        "lab: 1 of 2 devices answer SNMP (community 'public', port 16171) on 127.0.7.1 to 127.0.7.2",
        f"eaton-ups (127.0.7.2:16171): does not answer: 127.0.7.2:16171/udp is held by another process: "
        f"pid {squatter.pid} ({SQUATTER_NAME})",
        "Error: 1 of 2 devices do not answer: stop the other process (or serve the lab on another port: --port), "
        "then `flask lab stop` and `flask lab start`"]
    status = lab_command(app, "status")
    assert status.output.splitlines() == [
        "wds-camera (127.0.7.1:16171): answers",
        f"eaton-ups (127.0.7.2:16171): does not answer: 127.0.7.2:16171/udp is held by another process: "
        f"pid {squatter.pid} ({SQUATTER_NAME})", "lab: 1 of 2 devices answer"]

    squatter.kill()
    squatter.wait(10)
    simulator = lab.running_pids(lab_dir)["eaton-ups"]
    # The simulator says it listens right before it binds: a bind failure shows once that is a while ago.
    wait_for_condition(lab_dir, UPS, lab.Condition.UNBOUND, timeout=lab.BIND_WITHIN_S + 5)
    status = lab_command(app, "status")
    assert status.output.splitlines()[1:] == [
        f"eaton-ups (127.0.7.2:16171): does not answer: its simulator (pid {simulator}) runs but could not bind "
        "127.0.7.2:16171/udp (another process held it when it started)", "lab: 1 of 2 devices answer"]

    assert lab_command(app, "stop").output == "lab: 2 simulators stopped\n"
    again = start_lab(app, devices_file)
    assert (again.exit_code, again.output.splitlines()[-1]) == (
        0, "lab: 2 of 2 devices answer SNMP (community 'public', port 16171) on 127.0.7.1 to 127.0.7.2"), again.output


def test_a_killed_simulator_is_not_running_with_its_log(lab_app):
    app, lab_dir, devices_file = lab_app
    started = start_lab(app, devices_file)
    assert started.exit_code == 0, started.output
    simulator = lab.running_pids(lab_dir)["wds-camera"]
    os.kill(simulator, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while "wds-camera" in lab.running_pids(lab_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    status = lab_command(app, "status")
    assert (status.exit_code, status.output) == (
        0, f"wds-camera (127.0.7.1:16171): does not answer: its simulator (pid {simulator}) is not running; the last "
           "lines of its log: Listening at UDP/IPv4 endpoint 127.0.7.1:16171, transport ID 1.3.6.1.6.1.1.0\n"
           "eaton-ups (127.0.7.2:16171): answers\n"
           "lab: 1 of 2 devices answer\n")
    states = lab.diagnose(lab_dir, [CAMERA, UPS], PORT)
    assert [(s.device.name, s.condition) for s in states] == [
        ("wds-camera", lab.Condition.ENDED), ("eaton-ups", lab.Condition.ANSWERS)]

    restarted = start_lab(app, devices_file)  # starts the ended one again, keeps the other
    assert (restarted.exit_code, restarted.output.splitlines()[-1]) == (
        0, "lab: 2 of 2 devices answer SNMP (community 'public', port 16171) on 127.0.7.1 to 127.0.7.2"), \
        restarted.output


def test_a_device_never_started_says_so(tmp_path):
    never = lab.LabDevice("never-started", CAMERA.recording, "127.0.7.3")
    assert lab.diagnose(tmp_path / "lab", [never], PORT) == [
        lab.DeviceState(never, lab.Condition.NOT_STARTED,
                        "no simulator serves it (never started, or stopped by `flask lab stop`)")]
