"""Command line of discovery: the lab (`flask lab start|stop|status`, saying why a device does not answer),
scans (`flask scan run SCOPE [--kind nmap|snmp]`) and SNMP polls (`flask snmp poll SCOPE`), with a progress bar."""
import time
from pathlib import Path

import click
from flask import Flask

from core.audit import record
from core.errors import DomainError
from discovery import lab, scans
from discovery.models import RunStatus
from discovery.scopes import find_scope


def register(app: Flask) -> None:
    _register_lab(app)

    scan = click.Group("scan", help="Scans of a scope: nmap sweeps and SNMP polls.")
    app.cli.add_command(scan)

    @scan.command("run")
    @click.argument("scope_name")
    @click.option("--kind", type=click.Choice(scans.KINDS), default="nmap", show_default=True)
    def scan_run(scope_name: str, kind: str):
        """Scan SCOPE_NAME now (nmap sweep or SNMP poll) and store what it finds."""
        _run_scan(app, scope_name, kind)

    snmp = click.Group("snmp", help="SNMP polling.")
    app.cli.add_command(snmp)

    @snmp.command("poll")
    @click.argument("scope_name")
    def snmp_poll(scope_name: str):
        """Poll every address of SCOPE_NAME over SNMP and store what answered (as scan run --kind snmp)."""
        _run_scan(app, scope_name, "snmp")


def _run_scan(app: Flask, scope_name: str, kind: str) -> None:
    settings = scans.settings_from_config(app.config)
    sessions = app.extensions["sessions"]
    started = time.monotonic()
    try:
        with sessions() as session, session.begin():
            scope = find_scope(session, scope_name)
            run = scans.start_run(session, scope, kind, settings)
            record(session, "command line", f"scan.{kind}", "scan_run", run.id, detail=f"scope {scope.name}")
            run_id, total, mode = run.id, run.hosts_total, run.mode
    except DomainError as error:
        raise click.ClickException(error.reason) from None
    click.echo(f"run {run_id}: {kind} of {scope_name}, {total} addresses ({mode})")
    with click.progressbar(length=total, label="scanning") as bar:
        run = scans.execute_run(sessions, run_id, app.extensions["secret_box"], settings,
                                lambda done, _total: bar.update(done - bar.pos))
    if run.status is not RunStatus.FINISHED:
        raise click.ClickException(f"run {run.id} failed: {run.errors[0]['reason']}")
    click.echo(f"{run.hosts_answered} of {run.hosts_total} addresses answered in {time.monotonic() - started:.1f} s"
               + (f" ({run.requests} requests)" if kind == "snmp" else "")
               + f": {run.created} devices new, {run.changed} changed, {run.unchanged} unchanged, "
               f"{run.missing} now missing")
    for error in run.errors:
        click.echo(f"  {error['address']}: {error['reason']}")


def _register_lab(app: Flask) -> None:
    lab_group = click.Group("lab", help="The lab: simulated real devices on loopback addresses.")
    app.cli.add_command(lab_group)
    lab_dir = lab.folder(app.config, app.instance_path)

    @lab_group.command("start")
    @click.option("--port", type=int, default=None, help="UDP port of every agent (161 as root, else 16161).")
    @click.option("--devices", "devices_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  default=None, help="A table like discovery/data/lab.csv (name,recording,address) to serve "
                                     "instead of the project's lab.")
    def lab_start(port: int | None, devices_file: Path | None):
        """Serve the lab's recordings, each device on its own loopback address (already running: kept), and say
        why a device does not answer."""
        devices = lab.lab_devices(devices_file) if devices_file else lab.lab_devices()
        port = port or lab.default_port()
        with click.progressbar(length=len(devices), label="starting the lab's devices") as bar:
            lab.start(lab_dir, devices, port, progress=lambda _name: bar.update(1))
            bar.update(len(devices) - bar.pos)
        states = lab.settle(lab_dir, devices, port)
        silent = [state for state in states if not state.answers]
        click.echo(f"lab: {len(states) - len(silent)} of {len(states)} devices answer SNMP (community "
                   f"'{lab.COMMUNITY}', port {port}) on {devices[0].address} to {devices[-1].address}")
        for state in silent:
            click.echo(_state_line(state, port))
        if silent:
            remedies = [lab.REMEDIES[c] for c in lab.REMEDIES if any(s.condition is c for s in silent)]
            raise click.ClickException(f"{len(silent)} of {len(states)} devices do not answer: "
                                       + "; ".join(remedies))

    @lab_group.command("stop")
    def lab_stop():
        """Stop the lab's simulators."""
        click.echo(f"lab: {lab.stop(lab_dir)} simulators stopped")

    @lab_group.command("status")
    def lab_status():
        """Whether each device of the lab answers SNMP and, for one that does not, why."""
        devices, port = lab.served(lab_dir)
        states = lab.diagnose(lab_dir, devices, port)
        for state in states:
            click.echo(_state_line(state, port))
        click.echo(f"lab: {sum(state.answers for state in states)} of {len(states)} devices answer")


def _state_line(state: lab.DeviceState, port: int) -> str:
    where = f"{state.device.name} ({state.device.address}:{port})"
    return f"{where}: answers" if state.answers else f"{where}: does not answer: {state.reason}"
